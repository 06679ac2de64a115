"""Bad input to any command is a domain error naming the field, never a Python TypeError or
AttributeError, and nothing is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from domain.actor import Actor
from domain.command_context import CommandContext
from domain.errors import InvalidInputError, NotFoundError
from domain.patient_record import PatientRecord
from services.writing.application import CareLogApplication
from services.writing.commands import Commands
from tests.unit.test_patient_record import PSY, THER, ctx, new_record, prescribe, refused

# Every public command of the record, with the first field it cannot do without.
FIRST_REQUIRED = {
    "assign_care_team_member": "clinician_id",
    "remove_care_team_member": "clinician_id",
    "grant_emergency_access": "reason",
    "record_consent": "scope",
    "record_assessment": "instrument",
    "set_goal": "description",
    "change_goal_status": "goal_id",
    "prescribe": "order_id",
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


@pytest.fixture
def record() -> PatientRecord:
    return new_record()


class TestMissingFields:
    @pytest.mark.parametrize(("method", "field"), sorted(FIRST_REQUIRED.items()))
    def test_a_command_given_no_fields_names_the_first_missing_one(
        self, record: PatientRecord, method: str, field: str
    ) -> None:
        refused(
            record,
            lambda: getattr(record, method)(ctx()),
            InvalidInputError,
            "is required.",
            field,
        )

    def test_prescription_without_a_dose_is_refused(self, record: PatientRecord) -> None:
        fields = {
            "order_id": "o1",
            "drug": {"name": "sertraline"},
            "frequency": "once daily",
            "route": "oral",
            "indication": "depression",
        }
        refused(
            record,
            lambda: record.prescribe(ctx(), **fields),
            InvalidInputError,
            "The dose is required.",
            "dose",
        )

    def test_note_without_text_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.add_note(ctx(THER), kind="progress", modality="CBT"),
            InvalidInputError,
            "The note text is required.",
            "text",
        )

    def test_adherence_without_the_doses_missed_is_refused(self, record: PatientRecord) -> None:
        order = prescribe(record)
        refused(
            record,
            lambda: record.record_adherence(
                ctx(),
                order_id=order,
                doses_taken=3,
                period_start="2026-02-01",
                period_end="2026-02-07",
            ),
            InvalidInputError,
            "The number of doses missed is required.",
            "doses_missed",
        )

    def test_registration_without_a_birth_date_is_refused(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            PatientRecord.register(ctx(), patient_id=uuid4(), external_id="M", name="N")
        assert caught.value.message == "The birth date is required."
        assert caught.value.field == "birth_date"

    def test_a_field_the_command_does_not_know_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.add_note(ctx(THER), kind="progress", modality="CBT", txt="typo"),
            InvalidInputError,
            "CareLog does not know the field 'txt' here",
            "txt",
        )

    def test_fields_given_by_position_are_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: record.add_note(ctx(THER), "progress", "CBT", "text"),
            InvalidInputError,
            "Give each field of this entry by its name.",
        )


class TestIllTypedFields:
    @pytest.mark.parametrize("drug", ["sertraline", ["sertraline"], 42])
    def test_a_drug_that_is_not_a_mapping_is_refused(
        self, record: PatientRecord, drug: Any
    ) -> None:
        refused(
            record,
            lambda: prescribe(record, drug=drug),
            InvalidInputError,
            "The drug must be given with its name.",
            "drug",
        )

    def test_a_drug_without_a_name_is_refused(self, record: PatientRecord) -> None:
        refused(
            record,
            lambda: prescribe(record, drug={"rxnorm": "36437"}),
            InvalidInputError,
            "The drug name is required.",
            "drug",
        )

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
            lambda: record.change_dose(
                ctx(),
                order_id=order,
                dose={"amount": 100, "unit": "mg"},
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
        assert record.plan.orders[order]["since"] == datetime(2026, 2, 27, 8, 0, tzinfo=UTC)

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
            lambda: getattr(record, method)(ctx(), **fields),
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
    return commands.register_patient(
        CommandContext(PSY), external_id="MRN-S", name="S", birth_date="1980-01-01"
    ).patient_id


def refused_by_service(commands: Commands, call: Any, message: str, field: str | None) -> None:
    before = commands.app.recorder.max_notification_id()
    with pytest.raises(InvalidInputError) as caught:
        call()
    assert message in caught.value.message
    assert caught.value.field == field
    assert commands.app.recorder.max_notification_id() == before, "a refused command recorded"


class TestServiceCommands:
    def test_prescribing_without_a_drug_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.prescribe(
                CommandContext(PSY),
                pid,
                dose={"amount": 50, "unit": "mg"},
                frequency="once daily",
                route="oral",
                indication="depression",
            ),
            "The drug is required.",
            "drug",
        )

    def test_prescribing_without_a_dose_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.prescribe(
                CommandContext(PSY),
                pid,
                drug="sertraline",
                frequency="once daily",
                route="oral",
                indication="depression",
            ),
            "The dose is required.",
            "dose",
        )

    def test_a_client_cannot_choose_the_order_id(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.prescribe(
                CommandContext(PSY),
                pid,
                drug="sertraline",
                order_id="mine",
                dose={"amount": 50, "unit": "mg"},
                frequency="once daily",
                route="oral",
                indication="depression",
            ),
            "CareLog gives each new order its id.",
            "order_id",
        )

    def test_a_dose_change_without_an_order_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.change_dose(
                CommandContext(PSY), pid, dose={"amount": 5, "unit": "mg"}, reason="r"
            ),
            "The order id is required.",
            "order_id",
        )

    def test_a_generic_command_without_a_field_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.execute(
                CommandContext(PSY), pid, "add_note", kind="progress", modality="CBT"
            ),
            "The note text is required.",
            "text",
        )

    def test_an_unknown_command_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.execute(CommandContext(PSY), pid, "delete_everything"),
            "CareLog has no command 'delete_everything'.",
            "command",
        )

    def test_registration_without_a_name_is_refused(self, commands: Commands) -> None:
        refused_by_service(
            commands,
            lambda: commands.register_patient(
                CommandContext(PSY), external_id="MRN-X", birth_date="1980-01-01"
            ),
            "The name is required.",
            "name",
        )

    def test_assigning_without_a_role_is_refused(self, commands: Commands) -> None:
        pid = registered(commands)
        refused_by_service(
            commands,
            lambda: commands.assign_care_team_member(
                CommandContext(PSY), pid, clinician_id=THER.id
            ),
            "The role is required.",
            "role",
        )

    def test_a_late_registration_through_the_service_keeps_its_time(
        self, commands: Commands
    ) -> None:
        earlier = datetime.now(UTC) - timedelta(days=3)
        pid = commands.register_patient(
            CommandContext(PSY),
            external_id="MRN-L",
            name="L",
            birth_date="1980-01-01",
            effective_at=earlier,
        ).patient_id
        events = list(commands.app.events.get(commands.app.get_record(pid).id))
        assert [e.effective_at for e in events] == [earlier, earlier]

    def test_a_late_care_team_assignment_through_the_service_keeps_its_time(
        self, commands: Commands
    ) -> None:
        pid = registered(commands)
        earlier = datetime.now(UTC) - timedelta(hours=5)
        commands.assign_care_team_member(
            CommandContext(PSY), pid, clinician_id=THER.id, role="therapist", effective_at=earlier
        )
        assert commands.app.get_record(pid).plan.care_team[THER.id]["since"] == earlier
