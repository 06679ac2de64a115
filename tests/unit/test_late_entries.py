"""Late entries: every clinical command takes an optional effective_at, which defaults to the
recording time, may be earlier, and is refused if later than now plus five minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actor import Actor, Role
from domain.errors import InvalidInputError
from domain.patient_record import PatientRecord
from services.reading.history import History
from services.writing.application import CareLogApplication
from tests.command_builder import command
from tests.unit.test_patient_record import (
    NOW,
    PHARM,
    PSY,
    THER,
    ctx,
    new_record,
    prescribe,
    refused,
)
from web.schemas.entry_in import FollowUpIn, GoalIn, GoalStatusIn, ReviewIn
from web.schemas.medication_in import AdherenceIn
from web.schemas.patient_in import CareTeamMemberIn, PatientIn

EARLIER = NOW - timedelta(days=2)
LATER = NOW + timedelta(minutes=6)
NEW_MEMBER = Actor("ther-2", Role.THERAPIST, "T2")


def goal(rec: PatientRecord, effective_at: datetime | None = None) -> str:
    rec.set_goal(ctx(THER), c.SetGoal(description="walk daily", effective_at=effective_at))
    return str(rec.pending_events[-1].goal_id)


Setup = Callable[[PatientRecord], Callable[[Any], Any]]


def adherence(rec: PatientRecord) -> Callable[[Any], Any]:
    order = prescribe(rec, effective_at=EARLIER - timedelta(days=10))
    return lambda when: rec.record_adherence(
        ctx(PHARM),
        c.RecordAdherence(
            order_id=order,
            doses_taken=6,
            doses_missed=1,
            period_start=date.fromisoformat("2026-02-20"),
            period_end=date.fromisoformat("2026-02-26"),
            effective_at=when,
        ),
    )


def goal_status(rec: PatientRecord) -> Callable[[Any], Any]:
    goal_id = goal(rec, EARLIER - timedelta(days=1))
    return lambda when: rec.change_goal_status(
        ctx(THER), c.ChangeGoalStatus(goal_id=goal_id, status="met", effective_at=when)
    )


def member_since(rec: PatientRecord, since: datetime) -> None:
    rec.assign_care_team_member(
        ctx(),
        c.AssignCareTeamMember(clinician_id=NEW_MEMBER.id, role="therapist", effective_at=since),
        clinician_name=NEW_MEMBER.name,
    )


def removal(rec: PatientRecord) -> Callable[[Any], Any]:
    member_since(rec, EARLIER - timedelta(days=1))
    return lambda when: rec.remove_care_team_member(
        ctx(),
        c.RemoveCareTeamMember(clinician_id=NEW_MEMBER.id, reason="moved away", effective_at=when),
    )


# Commands that took no effective_at before: the setup each needs, then the command.
COMMANDS: dict[str, Setup] = {
    "set_goal": lambda rec: (
        lambda when: rec.set_goal(
            ctx(THER), c.SetGoal(description="sleep 7 hours", effective_at=when)
        )
    ),
    "change_goal_status": goal_status,
    "record_adherence": adherence,
    "schedule_follow_up": lambda rec: (
        lambda when: rec.schedule_follow_up(
            ctx(),
            c.ScheduleFollowUp(
                due_at=NOW + timedelta(days=14), purpose="check-in", effective_at=when
            ),
        )
    ),
    "review_plan": lambda rec: (
        lambda when: rec.review_plan(
            ctx(PHARM), c.ReviewPlan(outcome="no changes", effective_at=when)
        )
    ),
    "assign_care_team_member": lambda rec: (
        lambda when: rec.assign_care_team_member(
            ctx(),
            c.AssignCareTeamMember(clinician_id=NEW_MEMBER.id, role="therapist", effective_at=when),
            clinician_name=NEW_MEMBER.name,
        )
    ),
    "remove_care_team_member": removal,
}


def register(when: Any) -> PatientRecord:
    return PatientRecord.register(
        ctx(),
        command(
            "register_patient",
            {"external_id": "M", "name": "N", "birth_date": "1980-01-01", **when},
        ),
        patient_id=uuid4(),
    )


class TestLateEntries:
    @pytest.mark.parametrize("name", sorted(COMMANDS))
    def test_an_earlier_effective_time_is_kept_beside_the_recorded_time(
        self, record: PatientRecord, name: str
    ) -> None:
        COMMANDS[name](record)(EARLIER)
        event = record.pending_events[-1]
        assert (event.effective_at, event.timestamp) == (EARLIER, NOW)

    @pytest.mark.parametrize("name", sorted(COMMANDS))
    def test_without_an_effective_time_it_is_the_recording_time(
        self, record: PatientRecord, name: str
    ) -> None:
        COMMANDS[name](record)(None)
        assert record.pending_events[-1].effective_at == NOW

    @pytest.mark.parametrize(
        ("effective_at", "message"),
        [
            pytest.param(
                LATER,
                "effective_at is in the future: record what has happened, not what is planned.",
                id="in_the_future",
            ),
            pytest.param("2026-02-27T09:00:00", "The time needs a zone", id="without_a_zone"),
        ],
    )
    @pytest.mark.parametrize("name", sorted(COMMANDS))
    def test_an_effective_time_that_cannot_be_is_refused(
        self, record: PatientRecord, name: str, effective_at: Any, message: str
    ) -> None:
        command = COMMANDS[name](record)
        refused(record, lambda: command(effective_at), InvalidInputError, message, "effective_at")

    def test_a_goal_status_cannot_change_before_the_goal_was_set(
        self, record: PatientRecord
    ) -> None:
        goal_id = goal(record, EARLIER)
        refused(
            record,
            lambda: record.change_goal_status(
                ctx(THER),
                c.ChangeGoalStatus(
                    goal_id=goal_id, status="met", effective_at=EARLIER - timedelta(hours=1)
                ),
            ),
            InvalidInputError,
            "effective_at is before the goal was set",
            "effective_at",
        )

    def test_a_removal_cannot_predate_the_membership(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.remove_care_team_member(
                ctx(),
                c.RemoveCareTeamMember(
                    clinician_id=THER.id, reason="moved away", effective_at=EARLIER
                ),
            ),
            InvalidInputError,
            "effective_at is before T joined the care team",
            "effective_at",
        )

    def test_a_late_removal_ends_the_membership_at_its_effective_time(
        self, record: PatientRecord
    ) -> None:
        member_since(record, EARLIER)
        record.remove_care_team_member(
            ctx(),
            c.RemoveCareTeamMember(
                clinician_id=NEW_MEMBER.id,
                reason="moved away",
                effective_at=EARLIER + timedelta(hours=1),
            ),
        )
        member = record.plan.care_team[NEW_MEMBER.id]
        assert (member.since, member.until) == (EARLIER, EARLIER + timedelta(hours=1))


class TestLateRegistration:
    def test_a_late_registration_dates_the_patient_and_the_first_member(self) -> None:
        rec = register({"effective_at": EARLIER})
        assert [e.effective_at for e in rec.pending_events] == [EARLIER, EARLIER]
        assert [e.timestamp for e in rec.pending_events] == [NOW, NOW]
        assert rec.plan.care_team[PSY.id].since == EARLIER

    def test_a_registration_in_the_future_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            register({"effective_at": LATER})
        assert caught.value.message.startswith("effective_at is in the future")
        assert caught.value.field == "effective_at"

    def test_a_registration_before_the_birth_date_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            register({"effective_at": datetime(1979, 1, 1, tzinfo=NOW.tzinfo)})
        assert caught.value.message == "effective_at is before the patient's birth date."


class TestInEffectClock:
    def test_a_late_goal_status_is_in_effect_from_its_effective_time(self) -> None:
        app = CareLogApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        rec = new_record()
        goal_id = goal(rec, NOW - timedelta(days=10))
        rec.change_goal_status(
            ctx(THER),
            c.ChangeGoalStatus(goal_id=goal_id, status="met", effective_at=NOW - timedelta(days=4)),
        )
        app.save(rec)
        history = History(app)
        week_ago = NOW - timedelta(days=7)
        assert history.in_effect_at(rec.id, week_ago).state.goals[goal_id].status == "active"
        assert history.in_effect_at(rec.id, NOW).state.goals[goal_id].status == "met"
        assert history.known_at(rec.id, NOW - timedelta(minutes=1)).state.goals == {}


class TestRequestSchemas:
    @pytest.mark.parametrize(
        ("schema", "body"),
        [
            (PatientIn, {"external_id": "M", "name": "N", "birth_date": "1980-01-01"}),
            (CareTeamMemberIn, {"clinician_id": "c", "role": "therapist"}),
            (GoalIn, {"description": "walk daily"}),
            (GoalStatusIn, {"status": "met"}),
            (
                AdherenceIn,
                {
                    "order_id": "o",
                    "doses_taken": 1,
                    "doses_missed": 0,
                    "period_start": "2026-02-01",
                    "period_end": "2026-02-02",
                },
            ),
            (FollowUpIn, {"due_at": "2026-04-01T09:00:00Z", "purpose": "check-in"}),
            (ReviewIn, {"outcome": "no changes"}),
        ],
    )
    def test_the_late_entry_writes_accept_an_effective_time(
        self, schema: type, body: dict[str, Any]
    ) -> None:
        loaded = schema().load({**body, "effective_at": "2026-02-27T09:00:00Z"})
        assert loaded["effective_at"] == datetime.fromisoformat("2026-02-27T09:00:00+00:00")
        assert "effective_at" not in schema().load(body)
