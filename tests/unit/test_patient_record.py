"""The patient record's invariants: every refusal names the problem and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import CareLogError, InvalidInputError, NotFoundError, NotPermittedError
from domain.patient_record import PatientRecord
from tests.command_builder import command, record_call
from tests.unit.record_builder import a_finding, assign_team, registered

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PSY = Actor("psy-1", Role.PSYCHIATRIST, "Dr P")
THER = Actor("ther-1", Role.THERAPIST, "T")
PHARM = Actor("pharm-1", Role.PHARMACIST, "Ph")
PRESCRIBING_PHARM = Actor("pharm-2", Role.PHARMACIST, "Ph2", prescriber=True)
AUDITOR = Actor("aud-1", Role.AUDITOR, "A")
OUTSIDER = Actor("psy-9", Role.PSYCHIATRIST, "Dr O")


def ctx(actor: Actor = PSY, now: datetime = NOW) -> CommandContext:
    return CommandContext(actor=actor, now=now)


def new_record() -> PatientRecord:
    """A registered patient with a therapist and two pharmacists on the team, saved."""
    rec = registered(ctx(), allergies=["penicillin"])
    assign_team(rec, ctx(), THER, PHARM, PRESCRIBING_PHARM)
    rec.collect_events()
    return rec


def prescribe(rec: PatientRecord, actor: Actor = PSY, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "order_id": str(uuid4()),
        "drug": {"name": "sertraline", "classes": ["SSRI"]},
        "dose": {"amount": 50, "unit": "mg"},
        "frequency": "once daily",
        "route": "oral",
        "indication": "depression",
    }
    fields.update(overrides)
    cmd, extras = record_call("prescribe", fields)
    rec.prescribe(ctx(actor), cmd, **extras)
    return str(fields["order_id"])


def changing_dose(
    rec: PatientRecord, order_id: str, amount: float = 100, reason: str = "r", **fields: Any
) -> Callable[[], Any]:
    """The psychiatrist changing an order's dose (in mg), as a call for ``refused``."""
    cmd = c.ChangeDose(order_id=order_id, dose=Dose(amount, "mg"), reason=reason, **fields)
    return lambda: rec.change_dose(ctx(), cmd)


def refused(
    rec: PatientRecord,
    call: Callable[[], Any],
    error: type[CareLogError],
    message: str,
    field: str | None = None,
) -> None:
    before = (rec.version, len(rec.pending_events))
    with pytest.raises(error) as caught:
        call()
    assert message, "an empty message matches anything"
    assert message in caught.value.message
    if field is not None:
        assert caught.value.field == field
    assert (rec.version, len(rec.pending_events)) == before, "a refused command recorded"


class TestRegistration:
    def test_registering_clinician_joins_the_care_team(self, record: PatientRecord) -> None:
        assert record.is_member(PSY.id)
        assert record.plan.patient.external_id == "MRN-1"

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"external_id": " "}, "external_id", "An external id (MRN) is required."),
            ({"name": ""}, "name", "The patient's name is required."),
            ({"birth_date": "01/02/1980"}, "birth_date", "must be a date like 1980-04-30"),
            ({"birth_date": "2099-01-01"}, "birth_date", "The birth date is in the future."),
        ],
    )
    def test_bad_registration_is_refused(
        self, fields: dict[str, Any], field: str, message: str
    ) -> None:
        base = {"external_id": "MRN-2", "name": "N", "birth_date": "1990-01-01"}
        with pytest.raises(InvalidInputError) as caught:
            PatientRecord.register(
                ctx(), command("register_patient", {**base, **fields}), patient_id=uuid4()
            )
        assert caught.value.field == field
        assert message in caught.value.message

    def test_an_auditor_cannot_register_a_patient(self) -> None:
        with pytest.raises(NotPermittedError):
            PatientRecord.register(
                ctx(AUDITOR),
                c.RegisterPatient(
                    external_id="X", name="N", birth_date=date.fromisoformat("1990-01-01")
                ),
                patient_id=uuid4(),
            )


class TestMedicationInvariants:
    @pytest.mark.parametrize(
        ("dose", "field", "message"),
        [
            ({"amount": 0, "unit": "mg"}, "dose.amount", "must be a positive number"),
            ({"amount": -5, "unit": "mg"}, "dose.amount", "must be a positive number"),
            ({"amount": "ten", "unit": "mg"}, "dose.amount", "must be a number"),
            ({"amount": 5, "unit": "spoonful"}, "dose.unit", "Unknown dose unit 'spoonful'"),
            ({"amount": 5}, "dose.unit", "Unknown dose unit None"),
        ],
    )
    def test_bad_dose_is_refused(
        self, record: PatientRecord, dose: dict[str, Any], field: str, message: str
    ) -> None:
        refused(record, lambda: prescribe(record, dose=dose), InvalidInputError, message, field)

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            pytest.param({"route": "by mouth-ish"}, "route", "Unknown route", id="unknown_route"),
            pytest.param(
                {"frequency": "whenever"},
                "frequency",
                "Cannot read the frequency 'whenever'",
                id="unreadable_frequency",
            ),
            pytest.param(
                {"effective_at": NOW + timedelta(minutes=6)},
                "effective_at",
                "effective_at is in the future",
                id="effective_time_in_the_future",
            ),
        ],
    )
    def test_a_prescription_naming_what_cannot_be_given_is_refused(
        self, record: PatientRecord, fields: dict[str, Any], field: str, message: str
    ) -> None:
        refused(record, lambda: prescribe(record, **fields), InvalidInputError, message, field)

    def test_effective_time_a_little_ahead_is_clock_skew_and_accepted(
        self, record: PatientRecord
    ) -> None:
        prescribe(record, effective_at=NOW + timedelta(minutes=4))
        assert len(record.pending_events) == 1

    def test_late_entry_keeps_its_earlier_effective_time(self, record: PatientRecord) -> None:
        order = prescribe(record, effective_at=NOW - timedelta(days=3))
        assert record.plan.orders[order].since == NOW - timedelta(days=3)
        assert record.pending_events[-1].timestamp == NOW

    def test_dose_change_on_unknown_order_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            changing_dose(record, "nope", 10),
            NotFoundError,
            "There is no medication order nope",
            "order_id",
        )

    def test_dose_change_on_discontinued_order_is_refused(self, record: PatientRecord) -> None:
        order = prescribe(record)
        record.discontinue(
            ctx(), c.Discontinue(order_id=order, reason="remission", taper="halve weekly")
        )
        refused(
            record,
            changing_dose(record, order),
            InvalidInputError,
            "was discontinued",
            "order_id",
        )

    def test_dose_change_needs_a_reason(self, record: PatientRecord) -> None:
        order = prescribe(record)
        refused(
            record,
            changing_dose(record, order, reason=" "),
            InvalidInputError,
            "A reason for the dose change is required.",
            "reason",
        )

    def test_dose_change_keeps_the_previous_dose_in_the_steps(self, record: PatientRecord) -> None:
        order = prescribe(record)
        record.change_dose(
            ctx(), c.ChangeDose(order_id=order, dose=Dose(100, "mg"), reason="partial response")
        )
        steps = record.plan.orders[order].steps
        assert [s.dose["amount"] for s in steps] == [50, 100]

    def test_discontinuing_twice_is_refused(self, record: PatientRecord) -> None:
        order = prescribe(record)
        record.discontinue(
            ctx(), c.Discontinue(order_id=order, reason="remission", taper="halve weekly")
        )
        refused(
            record,
            lambda: record.discontinue(ctx(), c.Discontinue(order_id=order, reason="again")),
            InvalidInputError,
            "was discontinued",
            "order_id",
        )

    @pytest.mark.parametrize("actor", [THER, PHARM])
    def test_non_prescriber_may_not_prescribe(self, record: PatientRecord, actor: Actor) -> None:
        refused(
            record,
            lambda: prescribe(record, actor=actor),
            NotPermittedError,
            "Only a psychiatrist, or a pharmacist with the prescriber privilege",
        )

    def test_pharmacist_with_the_privilege_may_prescribe(self, record: PatientRecord) -> None:
        prescribe(record, actor=PRESCRIBING_PHARM)
        assert len(record.pending_events) == 1


class TestCareTeamInvariants:
    def test_clinician_off_the_team_may_not_write(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: prescribe(record, actor=OUTSIDER),
            NotPermittedError,
            "not on this patient's care team",
        )

    def test_removed_clinicians_writes_are_refused(self, record: PatientRecord) -> None:
        record.remove_care_team_member(
            ctx(), c.RemoveCareTeamMember(clinician_id=THER.id, reason="moved away")
        )
        refused(
            record,
            lambda: record.add_note(
                ctx(THER), c.AddNote(kind="progress", modality="CBT", text="x")
            ),
            NotPermittedError,
            "You were removed from this patient's care team",
        )

    def test_auditor_may_not_write(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.add_note(
                ctx(AUDITOR), c.AddNote(kind="progress", modality="CBT", text="x")
            ),
            NotPermittedError,
            "may not write",
        )

    def test_emergency_access_lets_an_outsider_in_for_four_hours(
        self, record: PatientRecord
    ) -> None:
        record.grant_emergency_access(
            ctx(OUTSIDER), c.GrantEmergencyAccess(reason="patient in crisis, team away")
        )
        assert record.may_access(OUTSIDER.id, NOW + timedelta(hours=3, minutes=59))
        assert not record.may_access(OUTSIDER.id, NOW + timedelta(hours=4, minutes=1))

    def test_emergency_access_needs_a_reason(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.grant_emergency_access(ctx(OUTSIDER), c.GrantEmergencyAccess(reason="")),
            InvalidInputError,
            "A reason for emergency access is required.",
            "reason",
        )


class TestNotes:
    def test_psychotherapy_note_from_a_non_therapist_is_refused(
        self, record: PatientRecord
    ) -> None:
        refused(
            record,
            lambda: record.add_note(
                ctx(PSY), c.AddNote(kind="psychotherapy", modality="CBT", text="x")
            ),
            NotPermittedError,
            "may not write psychotherapy notes",
        )

    def test_therapist_writes_a_psychotherapy_note(self, record: PatientRecord) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="psychotherapy", modality="CBT", text="session"))
        note = next(iter(record.plan.notes.values()))
        assert (note.kind, note.author_id) == ("psychotherapy", THER.id)

    def test_unknown_modality_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.add_note(
                ctx(THER), c.AddNote(kind="progress", modality="EMDR?", text="x")
            ),
            InvalidInputError,
            "is not one of",
            "modality",
        )


class TestCorrections:
    def test_correction_patches_the_entry_and_keeps_the_original(
        self, record: PatientRecord
    ) -> None:
        order = prescribe(record)
        original = record.pending_events[-1]
        record.correct_entry(
            ctx(),
            c.CorrectEntry(
                event_id=original.event_id,
                fields={"dose": {"amount": 25, "unit": "mg"}},
                reason="typo",
            ),
        )
        order_state = record.plan.orders[order]
        assert order_state.steps[0].dose == {"amount": 25.0, "unit": "mg"}
        assert order_state.steps[0].corrected is True
        assert original.dose == {"amount": 50.0, "unit": "mg"}

    def test_only_the_author_may_correct(self, record: PatientRecord) -> None:
        prescribe(record)
        event_id = record.pending_events[-1].event_id
        refused(
            record,
            lambda: record.correct_entry(
                ctx(PRESCRIBING_PHARM),
                c.CorrectEntry(event_id=event_id, fields={"route": "oral"}, reason="r"),
            ),
            NotPermittedError,
            "Only the author",
        )

    def test_identity_fields_cannot_be_corrected(self, record: PatientRecord) -> None:
        prescribe(record)
        event_id = record.pending_events[-1].event_id
        refused(
            record,
            lambda: record.correct_entry(
                ctx(), c.CorrectEntry(event_id=event_id, fields={"drug": "x"}, reason="r")
            ),
            InvalidInputError,
            "drug cannot be corrected",
            "fields",
        )

    def test_corrected_assessment_is_rescored(self, record: PatientRecord) -> None:
        record.record_assessment(
            ctx(THER), c.RecordAssessment(instrument="PHQ-9", item_scores=[1] * 9)
        )
        event_id = record.pending_events[-1].event_id
        record.correct_entry(
            ctx(THER),
            c.CorrectEntry(
                event_id=event_id, fields={"item_scores": [2] * 9}, reason="transcription error"
            ),
        )
        assessment = record.plan.assessments[-1]
        assert (assessment.total, assessment.severity) == (18, "moderately severe")


class TestOtherInvariants:
    @pytest.mark.parametrize(
        ("due_at", "message"),
        [
            pytest.param("2020-01-01T00:00:00Z", "must be due in the future", id="in_the_past"),
            pytest.param("2030-01-01T00:00:00", "needs a zone", id="naive_time"),
        ],
    )
    def test_a_follow_up_due_at_a_time_that_cannot_be_is_refused(
        self, record: PatientRecord, due_at: str, message: str
    ) -> None:
        follow_up = c.ScheduleFollowUp(due_at=due_at, purpose="x")
        refused(
            record,
            lambda: record.schedule_follow_up(ctx(), follow_up),
            InvalidInputError,
            message,
            "due_at",
        )

    def test_bad_icd10_code_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.record_assessment(
                ctx(), c.RecordAssessment(instrument="clinical", diagnoses=["depression"])
            ),
            InvalidInputError,
            "is not an ICD-10 code",
            "diagnoses",
        )

    def test_therapist_may_not_resolve_a_medication_alert(self, record: PatientRecord) -> None:
        finding = a_finding(rule_id="MAX-X", kind="max_dose")
        alert_id = record.raise_alert(ctx(PSY), finding=finding, rule_pack_version="t")
        refused(
            record,
            lambda: record.resolve_alert(
                ctx(THER),
                c.ResolveAlert(alert_id=alert_id, resolution="acknowledged", reason="Seen it"),
            ),
            NotPermittedError,
            "may resolve only suicide-risk alerts",
        )
