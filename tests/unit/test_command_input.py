"""Bad input to any command is a domain error naming the field, never a Python TypeError or
AttributeError, and nothing is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from domain import commands as c
from domain.actor import Actor
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import InvalidInputError, NotFoundError
from domain.patient_record import PatientRecord
from services.writing.application import CareLogApplication
from services.writing.commands import Commands
from tests.command_builder import CLASSES, record_call
from tests.unit.record_builder import registration
from tests.unit.test_patient_record import (
    PSY,
    THER,
    changing_dose,
    ctx,
    prescribe,
    refused,
)

# Every public command of the record, with the first field it cannot do without.
FIRST_REQUIRED = {
    "assign_care_team_member": "clinician_id",
    "remove_care_team_member": "clinician_id",
    "grant_emergency_access": "reason",
    "record_consent": "scope",
    "record_assessment": "instrument",
    "set_goal": "description",
    "change_goal_status": "goal_id",
    "prescribe": "drug",
    "change_dose": "order_id",
    "discontinue": "order_id",
    "report_side_effect": "effect",
    "record_adherence": "order_id",
    "resolve_alert": "alert_id",
    "add_note": "kind",
    "record_education": "topic",
    "schedule_follow_up": "due_at",
    "complete_follow_up": "follow_up_id",
    "review_plan": "outcome",
    "record_lab_result": "test",
    "record_fact": "fact",
    "correct_entry": "event_id",
}


def call_record(record: PatientRecord, method: str, fields: dict[str, Any]) -> Any:
    cmd, extras = record_call(method, fields)
    return getattr(record, method)(ctx(), cmd, **extras)


class TestMissingFields:
    """A command is built at the edge from what the schema loaded (which refuses a missing
    or unknown field with 400 naming it): a command without a required field, or with a
    field it does not have, cannot be built at all, so the record never sees one."""

    @pytest.mark.parametrize(("method", "field"), sorted(FIRST_REQUIRED.items()))
    def test_a_command_given_no_fields_names_the_first_missing_one(
        self, method: str, field: str
    ) -> None:
        with pytest.raises(TypeError, match=f"missing .*'{field}'"):
            CLASSES[method]()

    @pytest.mark.parametrize(
        ("cls", "fields", "missing"),
        [
            (
                c.Prescribe,
                {"drug": "sertraline", "frequency": "daily", "route": "oral", "indication": "x"},
                "dose",
            ),
            (c.AddNote, {"kind": "progress", "modality": "CBT"}, "text"),
            (
                c.RecordAdherence,
                {
                    "order_id": "o1",
                    "doses_taken": 3,
                    "period_start": date(2026, 2, 1),
                    "period_end": date(2026, 2, 7),
                },
                "doses_missed",
            ),
            (c.RegisterPatient, {"external_id": "M", "name": "N"}, "birth_date"),
            (
                c.Prescribe,
                {"dose": Dose(50, "mg"), "frequency": "daily", "route": "oral", "indication": "x"},
                "drug",
            ),
            (c.ChangeDose, {"dose": Dose(50, "mg"), "reason": "r"}, "order_id"),
            (c.RegisterPatient, {"external_id": "M", "birth_date": date(1980, 1, 1)}, "name"),
            (c.AssignCareTeamMember, {"clinician_id": "ther"}, "role"),
            (c.AddNote, {"modality": "CBT", "text": "t"}, "kind"),
        ],
    )
    def test_a_command_without_a_required_field_cannot_be_built(
        self, cls: type[Any], fields: dict[str, Any], missing: str
    ) -> None:
        with pytest.raises(TypeError, match=f"missing .*'{missing}'"):
            cls(**fields)

    @pytest.mark.parametrize(
        ("cls", "fields", "unknown"),
        [
            (c.AddNote, {"kind": "progress", "modality": "CBT", "txt": "typo"}, "txt"),
            (  # CareLog gives each new order its id: a client cannot choose one
                c.Prescribe,
                {
                    "drug": "sertraline",
                    "order_id": "mine",
                    "dose": Dose(50, "mg"),
                    "frequency": "once daily",
                    "route": "oral",
                    "indication": "depression",
                },
                "order_id",
            ),
        ],
    )
    def test_a_field_the_command_does_not_know_is_refused(
        self, cls: type[Any], fields: dict[str, Any], unknown: str
    ) -> None:
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{unknown}'"):
            cls(**fields)

    def test_the_record_takes_a_command_not_loose_fields(self, record: PatientRecord) -> None:
        before = record.version
        with pytest.raises(TypeError):
            record.add_note(ctx(THER), "progress", "CBT", "text")  # type: ignore[call-arg]
        assert record.version == before
        assert not record.pending_events


class TestIllTypedFields:
    @pytest.mark.parametrize(
        ("drug", "message"),
        [
            # not a mapping
            *[
                (d, "The drug must be given with its name.")
                for d in ("sertraline", ["sertraline"], 42)
            ],
            # a mapping without a name
            ({"rxnorm": "36437"}, "The drug name is required."),
        ],
    )
    def test_a_drug_not_given_with_its_name_is_refused(
        self, record: PatientRecord, drug: Any, message: str
    ) -> None:
        refused(record, lambda: prescribe(record, drug=drug), InvalidInputError, message, "drug")

    def test_a_second_order_with_the_same_id_is_refused(self, record: PatientRecord) -> None:
        order = prescribe(record)
        refused(
            record,
            lambda: prescribe(record, order_id=order),
            InvalidInputError,
            f"There is a medication order {order} already.",
            "order_id",
        )

    @pytest.mark.parametrize(
        ("effective_at", "message"),
        [
            ("yesterday", "Give a time like 2026-03-01T09:30:00Z."),
            (12345, "Give a time like 2026-03-01T09:30:00Z."),
            ("2026-02-27T09:00:00", "The time needs a zone"),
            (datetime(2026, 2, 27, 9, 0), "The time needs a zone"),  # noqa: DTZ001 - the input under test
        ],
    )
    def test_an_unreadable_or_naive_effective_time_is_refused(
        self, record: PatientRecord, effective_at: Any, message: str
    ) -> None:
        refused(
            record,
            lambda: prescribe(record, effective_at=effective_at),
            InvalidInputError,
            message,
            "effective_at",
        )

    def test_a_naive_effective_time_on_a_dose_change_is_refused(
        self, record: PatientRecord
    ) -> None:
        order = prescribe(record)
        refused(
            record,
            changing_dose(
                record,
                order,
                reason="titration",
                effective_at=datetime(2026, 2, 27, 9, 0),  # noqa: DTZ001 - the input under test
            ),
            InvalidInputError,
            "The time needs a zone",
            "effective_at",
        )

    def test_an_effective_time_as_an_iso_text_with_a_zone_is_read(
        self, record: PatientRecord
    ) -> None:
        order = prescribe(record, effective_at="2026-02-27T09:00:00+01:00")
        assert record.plan.orders[order].since == datetime(2026, 2, 27, 8, 0, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("method", "fields", "field", "message"),
        [
            (
                "change_dose",
                {"order_id": ["o"], "dose": {"amount": 1, "unit": "mg"}, "reason": "r"},
                "order_id",
                "An order id is required.",
            ),
            (
                "discontinue",
                {"order_id": {"id": "o"}, "reason": "r"},
                "order_id",
                "An order id is required.",
            ),
            (
                "change_goal_status",
                {"goal_id": ["g"], "status": "met"},
                "goal_id",
                "A goal id is required.",
            ),
            (
                "resolve_alert",
                {"alert_id": ["a"], "resolution": "acknowledged"},
                "alert_id",
                "An alert id is required.",
            ),
            (
                "complete_follow_up",
                {"follow_up_id": {"f": 1}, "outcome": "seen"},
                "follow_up_id",
                "A follow-up id is required.",
            ),
            (
                "assign_care_team_member",
                {"clinician_id": ["c"], "clinician_name": "C", "role": "therapist"},
                "clinician_id",
                "A clinician id is required.",
            ),
            (
                "remove_care_team_member",
                {"clinician_id": ["c"], "reason": "left"},
                "clinician_id",
                "A clinician id is required.",
            ),
            (
                "report_side_effect",
                {"order_id": ["o"], "effect": "nausea", "severity": "mild"},
                "order_id",
                "There is no medication order",
            ),
            (
                "record_assessment",
                {"instrument": ["PHQ-9"]},
                "instrument",
                "Unknown instrument",
            ),
        ],
    )
    def test_an_id_or_name_that_is_not_text_is_refused(
        self,
        record: PatientRecord,
        method: str,
        fields: dict[str, Any],
        field: str,
        message: str,
    ) -> None:
        refused(
            record,
            lambda: call_record(record, method, fields),
            (InvalidInputError, NotFoundError),
            message,
            field,
        )


class FakeStaff:
    """Just enough of the staff registry for the care-team command."""

    def __init__(self, *members: Actor) -> None:
        self.members = {m.id: m for m in members}

    def get(self, staff_id: str) -> Any:
        actor = self.members.get(staff_id)
        if actor is None:
            return None
        return SimpleNamespace(id=actor.id, name=actor.name, role=actor.role, active=True)


@pytest.fixture
def commands() -> Commands:
    app = CareLogApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return Commands(app, FakeStaff(THER))


def registered(commands: Commands) -> str:
    command = registration("MRN-S", "S", "1980-01-01")
    return commands.register_patient(CommandContext(PSY), command).patient_id


def refused_by_service(commands: Commands, call: Any, message: str, field: str | None) -> None:
    before = commands.app.recorder.max_notification_id()
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert message in caught.value.message
    assert caught.value.field == field
    assert commands.app.recorder.max_notification_id() == before, "a refused command recorded"


class TestServiceCommands:
    def test_an_unknown_command_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.execute(CommandContext(PSY), pid, "delete_everything"),
            "CareLog has no command 'delete_everything'.",
            "command",
        )

    def test_a_late_registration_through_the_service_keeps_its_time(
        self, commands: Commands
    ) -> None:
        earlier = datetime.now(UTC) - timedelta(days=3)
        pid = commands.register_patient(
            CommandContext(PSY),
            c.RegisterPatient(
                external_id="MRN-L",
                name="L",
                birth_date=date.fromisoformat("1980-01-01"),
                effective_at=earlier,
            ),
        ).patient_id
        events = list(commands.app.events.get(commands.app.get_record(pid).id))
        assert [e.effective_at for e in events] == [earlier, earlier]

    def test_a_late_care_team_assignment_through_the_service_keeps_its_time(
        self, commands: Commands
    ) -> None:
        pid = registered(commands)
        earlier = datetime.now(UTC) - timedelta(hours=5)
        commands.execute(
            CommandContext(PSY),
            pid,
            c.AssignCareTeamMember(clinician_id=THER.id, role="therapist", effective_at=earlier),
        )
        assert commands.app.get_record(pid).plan.care_team[THER.id].since == earlier
