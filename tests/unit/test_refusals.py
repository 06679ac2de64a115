"""Refusals of the patient record not covered elsewhere: each names the problem in words a
clinician understands, and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from marshmallow import ValidationError

from domain import commands as c
from domain.dose import Dose
from domain.errors import InvalidInputError, NotFoundError
from domain.patient_record import PatientRecord
from tests.command_builder import command
from tests.unit.record_builder import a_finding
from tests.unit.test_patient_record import (
    NOW,
    PHARM,
    THER,
    changing_dose,
    ctx,
    prescribe,
    refused,
)
from web.schemas.medication_in import AdherenceIn


def raise_alert(rec: PatientRecord) -> str:
    finding = a_finding(
        key="interaction:x",
        rule_id="rule-1",
        message="Serotonin syndrome risk.",
        action="review",
        source="test",
        order_ids=[],
    )
    return rec.raise_alert(ctx(), finding=finding, rule_pack_version="1")


def resolving(
    rec: PatientRecord, alert_id: str, resolution: str = "acknowledged", reason: str | None = None
) -> Callable[[], Any]:
    """The pharmacist resolving an alert, as a call for ``refused``."""
    cmd = c.ResolveAlert(alert_id=alert_id, resolution=resolution, reason=reason)
    return lambda: rec.resolve_alert(ctx(PHARM), cmd)


def adherence(rec: PatientRecord, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "doses_taken": 6,
        "doses_missed": 1,
        "period_start": "2026-02-20",
        "period_end": "2026-02-27",
    }
    fields.update(overrides)
    return lambda: rec.record_adherence(ctx(PHARM), command("record_adherence", fields))


class TestAlerts:
    def test_resolving_an_alert_twice_is_refused(self, record: PatientRecord) -> None:
        alert = raise_alert(record)
        resolving(record, alert, reason="Seen")()
        refused(
            record,
            resolving(record, alert, reason="Seen again"),
            InvalidInputError,
            "That alert was resolved already.",
            "alert_id",
        )

    @pytest.mark.parametrize(
        ("resolution", "reason", "message"),
        [
            # an override without a reason
            *[("overridden", r, "An override needs a reason.") for r in (None, "", "   ")],
            # any resolution without a reason with content
            *[
                ("acknowledged", r, "A resolution needs a reason")
                for r in (None, "", "   ", "x", "?!")
            ],
        ],
    )
    def test_a_resolution_without_a_reason_is_refused(
        self, record: PatientRecord, resolution: str, reason: str | None, message: str
    ) -> None:
        alert = raise_alert(record)
        refused(
            record,
            resolving(record, alert, resolution, reason),
            InvalidInputError,
            message,
            "reason",
        )

    def test_an_unknown_alert_is_not_found(self, record: PatientRecord) -> None:
        refused(
            record,
            resolving(record, "nope"),
            NotFoundError,
            "There is no safety alert nope.",
            "alert_id",
        )


class TestCareTeam:
    def test_assigning_a_member_already_on_the_team_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.assign_care_team_member(
                ctx(),
                c.AssignCareTeamMember(clinician_id=THER.id, role="therapist"),
                clinician_name=THER.name,
            ),
            InvalidInputError,
            "That clinician is on the care team already.",
            "clinician_id",
        )

    @pytest.mark.parametrize("reason", ["", "  ", None])
    def test_a_removal_needs_a_reason(self, record: PatientRecord, reason: str | None) -> None:
        refused(
            record,
            lambda: record.remove_care_team_member(
                ctx(), c.RemoveCareTeamMember(clinician_id=THER.id, reason=reason)
            ),
            InvalidInputError,
            "A reason for the removal is required.",
            "reason",
        )

    def test_removing_someone_not_on_the_team_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.remove_care_team_member(
                ctx(), c.RemoveCareTeamMember(clinician_id="x", reason="left")
            ),
            NotFoundError,
            "That clinician is not on the care team.",
            "clinician_id",
        )


class TestMedication:
    def test_changing_to_the_same_dose_and_frequency_is_refused(
        self, record: PatientRecord
    ) -> None:
        order = prescribe(record)
        refused(
            record,
            changing_dose(record, order, 50),
            InvalidInputError,
            "That is the current dose and frequency already.",
            "dose",
        )

    def test_the_same_dose_at_a_new_frequency_is_a_change(self, record: PatientRecord) -> None:
        order = prescribe(record)
        record.change_dose(
            ctx(),
            c.ChangeDose(
                order_id=order,
                dose=Dose(50, "mg"),
                frequency="twice daily",
                reason="split the dose",
            ),
        )
        assert record.plan.orders[order].steps[-1].frequency == "twice daily"

    @pytest.mark.parametrize("indication", ["", "   ", None, 7])
    def test_a_prescription_needs_an_indication(
        self, record: PatientRecord, indication: Any
    ) -> None:
        refused(
            record,
            lambda: prescribe(record, indication=indication),
            InvalidInputError,
            "An indication is required.",
            "indication",
        )

    def test_a_dose_change_before_the_order_started_is_refused(self, record: PatientRecord) -> None:
        order = prescribe(record, effective_at=NOW - timedelta(days=2))
        refused(
            record,
            changing_dose(record, order, effective_at=NOW - timedelta(days=3)),
            InvalidInputError,
            "effective_at is before sertraline was started",
            "effective_at",
        )


class TestFollowUps:
    def test_completing_a_follow_up_twice_is_refused(self, record: PatientRecord) -> None:
        record.schedule_follow_up(
            ctx(), c.ScheduleFollowUp(due_at=NOW + timedelta(days=7), purpose="check-in")
        )
        follow_up = next(iter(record.plan.follow_ups))
        record.complete_follow_up(ctx(), c.CompleteFollowUp(follow_up_id=follow_up, outcome="seen"))
        refused(
            record,
            lambda: record.complete_follow_up(
                ctx(), c.CompleteFollowUp(follow_up_id=follow_up, outcome="again")
            ),
            InvalidInputError,
            "That follow-up was completed already.",
            "follow_up_id",
        )

    def test_completing_an_unknown_follow_up_is_not_found(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.complete_follow_up(
                ctx(), c.CompleteFollowUp(follow_up_id="f-9", outcome="seen")
            ),
            NotFoundError,
            "There is no follow-up f-9.",
            "follow_up_id",
        )


class TestAdherence:
    def test_adherence_is_reported_for_an_order(self, record: PatientRecord) -> None:
        refused(
            record,
            adherence(record, order_id=None),
            InvalidInputError,
            "Adherence is reported for an order.",
            "order_id",
        )

    def test_adherence_for_an_unknown_order_is_not_found(self, record: PatientRecord) -> None:
        refused(
            record,
            adherence(record, order_id="o-9"),
            NotFoundError,
            "There is no medication order o-9.",
            "order_id",
        )

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("doses_taken", -1),
            ("doses_taken", 2.5),
            ("doses_taken", True),
            ("doses_missed", "3"),
            ("doses_missed", None),
        ],
    )
    def test_doses_must_be_whole_numbers_of_zero_or_more(
        self, record: PatientRecord, field: str, value: Any
    ) -> None:
        order = prescribe(record)
        refused(
            record,
            adherence(record, order_id=order, **{field: value}),
            InvalidInputError,
            "Give a whole number of doses, 0 or more.",
            field,
        )

    @pytest.mark.parametrize("field", ["period_start", "period_end"])
    def test_a_period_needs_real_dates(self, field: str) -> None:
        # A period's dates are parsed once, by the schema at the edge (400 naming the
        # field); the record receives dates, never text.
        body = {
            "order_id": "o1",
            "doses_taken": 6,
            "doses_missed": 1,
            "period_start": "2026-02-20",
            "period_end": "2026-02-27",
        }
        with pytest.raises(ValidationError) as caught:
            AdherenceIn().load({**body, field: "last week"})
        assert field in caught.value.messages

    @pytest.mark.parametrize("field", ["period_start", "period_end"])
    def test_a_period_before_1900_is_refused(self, record: PatientRecord, field: str) -> None:
        order = prescribe(record)
        refused(
            record,
            adherence(record, order_id=order, **{field: "1899-12-31"}),
            InvalidInputError,
            "Before 1900-01-01",
            field,
        )

    def test_a_period_cannot_end_before_it_starts(self, record: PatientRecord) -> None:
        order = prescribe(record)
        refused(
            record,
            adherence(record, order_id=order, period_start="2026-02-27", period_end="2026-02-20"),
            InvalidInputError,
            "The period ends before it starts.",
            "period_end",
        )


class TestLabs:
    @pytest.mark.parametrize("value", ["0.8", True, float("nan"), float("inf"), [1.0]])
    def test_a_lab_value_that_is_not_a_number_is_refused(
        self, record: PatientRecord, value: Any
    ) -> None:
        refused(
            record,
            lambda: record.record_lab_result(
                ctx(), c.RecordLabResult(test="lithium level", value=value)
            ),
            InvalidInputError,
            "A lab value must be a number.",
            "value",
        )

    def test_a_lab_without_a_value_is_kept(self, record: PatientRecord) -> None:
        record.record_lab_result(ctx(), c.RecordLabResult(test="ECG", unit=""))
        assert record.plan.labs[-1].value is None


class TestCorrections:
    @pytest.mark.parametrize("fields", [{}, None, [], "dose"])
    def test_a_correction_with_no_fields_is_refused(
        self, record: PatientRecord, fields: Any
    ) -> None:
        prescribe(record)
        event_id = record.pending_events[-1].event_id
        refused(
            record,
            lambda: record.correct_entry(
                ctx(), c.CorrectEntry(event_id=event_id, fields=fields, reason="typo")
            ),
            InvalidInputError,
            "Name at least one field to correct.",
            "fields",
        )

    @pytest.mark.parametrize("event_id", ["no-such-entry", None, 42])
    def test_a_correction_of_an_unknown_entry_is_not_found(
        self, record: PatientRecord, event_id: Any
    ) -> None:
        refused(
            record,
            lambda: record.correct_entry(
                ctx(), c.CorrectEntry(event_id=event_id, fields={"route": "oral"}, reason="typo")
            ),
            NotFoundError,
            "There is no correctable entry with that id.",
            "event_id",
        )


class TestGoals:
    def test_changing_an_unknown_goal_is_not_found(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.change_goal_status(
                ctx(THER), c.ChangeGoalStatus(goal_id="g-9", status="met")
            ),
            NotFoundError,
            "There is no goal g-9.",
            "goal_id",
        )

    def test_an_unknown_goal_status_is_refused(self, record: PatientRecord) -> None:
        record.set_goal(ctx(THER), c.SetGoal(description="sleep 7 hours"))
        goal = next(iter(record.plan.goals))
        refused(
            record,
            lambda: record.change_goal_status(
                ctx(THER), c.ChangeGoalStatus(goal_id=goal, status="done")
            ),
            InvalidInputError,
            "'done' is not one of active, met, revised, abandoned.",
            "status",
        )
