"""The feed contract: events become versioned CloudEvents, and each role gets the minimum."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.patient_record import PatientRecord
from services.feeds.feed_contract import (
    CONTRACT,
    FEED_TYPES,
    TOPIC_OF,
    TOPICS,
    role_topics,
)
from services.feeds.feed_message import redact_for_role, to_cloudevent
from services.feeds.kept_in import NEVER_LEAVES
from tests.unit.record_builder import assign_team, registered, sertraline

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PSY = Actor("psy-1", Role.PSYCHIATRIST, "Dr P")
THER = Actor("ther-1", Role.THERAPIST, "T")
SECRET = "patient spoke of the accident"


def ctx(actor: Actor = PSY, now: datetime = NOW) -> CommandContext:
    return CommandContext(actor=actor, now=now)


@pytest.fixture
def record() -> PatientRecord:
    rec = registered(ctx())
    assign_team(rec, ctx(), THER)
    return rec


def prescribe(rec: PatientRecord) -> str:
    order_id = str(uuid4())
    rec.prescribe(
        ctx(),
        sertraline(),
        order_id=order_id,
        drug={
            "name": "sertraline",
            "generic": "sertraline",
            "classes": ["SSRI"],
            "rxnorm": "36437",
            "in_rule_pack": True,
        },
    )
    return order_id


def last(rec: PatientRecord) -> Any:
    return rec.pending_events[-1]


def every_message(rec: PatientRecord) -> list[dict[str, Any] | None]:
    return [to_cloudevent(e, n) for n, e in enumerate(rec.pending_events, start=1)]


class TestCloudEventEnvelope:
    def test_a_dose_change_becomes_a_versioned_cloudevent_about_the_patient(
        self, record: PatientRecord
    ) -> None:
        order_id = prescribe(record)
        later = NOW + timedelta(hours=2)
        record.change_dose(
            ctx(now=later),
            c.ChangeDose(
                order_id=order_id,
                dose=Dose(100, "mg"),
                reason="partial response",
                effective_at=NOW + timedelta(hours=1),
            ),
        )
        event = last(record)

        message = to_cloudevent(event, 42)

        assert message is not None
        assert message["specversion"] == "1.0"
        assert message["type"] == "carelog.medication.dose-changed.v1"
        assert message["id"] == event.event_id
        assert message["subject"] == str(record.id)
        assert message["time"] == "2026-03-01T11:30:00Z"
        assert message["source"]
        assert message["data"]["effective_at"] == "2026-03-01T10:30:00Z"
        assert message["data"]["position"] == 42
        assert message["data"]["dose"] == {"amount": 100, "unit": "mg"}
        assert message["data"]["actor"] == {"id": PSY.id, "role": "psychiatrist"}

    def test_every_message_survives_a_json_round_trip(self, record: PatientRecord) -> None:
        order_id = prescribe(record)
        record.report_side_effect(
            ctx(), c.ReportSideEffect(order_id=order_id, effect="nausea", severity="mild")
        )
        record.schedule_follow_up(
            ctx(), c.ScheduleFollowUp(due_at=NOW + timedelta(days=14), purpose="check-in")
        )
        messages = [m for m in every_message(record) if m is not None]
        assert messages
        for message in messages:
            assert json.loads(json.dumps(message)) == message

    def test_the_prescribed_drug_carries_no_internal_flags(self, record: PatientRecord) -> None:
        prescribe(record)
        message = to_cloudevent(last(record), 1)
        assert message is not None
        assert message["data"]["drug"] == {
            "name": "sertraline",
            "generic": "sertraline",
            "classes": ["SSRI"],
            "rxnorm": "36437",
        }


class TestWhatNeverLeaves:
    def test_no_note_text_is_in_any_message(self, record: PatientRecord) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="progress", modality="CBT", text=SECRET))
        record.add_note(ctx(THER), c.AddNote(kind="psychotherapy", modality="CBT", text=SECRET))
        for message in every_message(record):
            assert SECRET not in json.dumps(message)

    def test_a_progress_note_is_announced_by_id_author_kind_and_modality(
        self, record: PatientRecord
    ) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="progress", modality="CBT", text=SECRET))
        message = to_cloudevent(last(record), 7)
        assert message is not None
        assert message["type"] == "carelog.note.added.v1"
        assert {
            k: v
            for k, v in message["data"].items()
            if k not in ("effective_at", "position", "actor")
        } == {
            "note_id": last(record).note_id,
            "author": THER.id,
            "kind": "progress",
            "modality": "CBT",
        }

    def test_a_psychotherapy_note_does_not_leave_at_all(self, record: PatientRecord) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="psychotherapy", modality="CBT", text=SECRET))
        assert to_cloudevent(last(record), 1) is None

    def test_the_patients_identity_does_not_leave(self, record: PatientRecord) -> None:
        registered = record.pending_events[0]
        assert to_cloudevent(registered, 1) is None
        for message in every_message(record):
            text = json.dumps(message)
            assert "Test One" not in text
            assert "MRN-1" not in text
            assert "1980-01-02" not in text

    def test_emergency_access_stays_in_the_audit_trail(self, record: PatientRecord) -> None:
        outsider = Actor("psy-9", Role.PSYCHIATRIST, "Dr O")
        record.grant_emergency_access(
            ctx(outsider), c.GrantEmergencyAccess(reason="patient unconscious in ED")
        )
        assert to_cloudevent(last(record), 1) is None

    def test_a_correction_of_a_note_does_not_leave(self, record: PatientRecord) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="progress", modality="CBT", text="first draft"))
        note_event = last(record).event_id
        record.correct_entry(
            ctx(THER), c.CorrectEntry(event_id=note_event, fields={"text": SECRET}, reason="typo")
        )
        assert to_cloudevent(last(record), 1) is None

    def test_a_correction_of_a_dose_names_the_fields_but_not_their_values(
        self, record: PatientRecord
    ) -> None:
        order_id = prescribe(record)
        record.change_dose(
            ctx(), c.ChangeDose(order_id=order_id, dose=Dose(100, "mg"), reason="titration")
        )
        changed = last(record).event_id
        record.correct_entry(
            ctx(),
            c.CorrectEntry(
                event_id=changed,
                fields={"dose": {"amount": 75, "unit": "mg"}},
                reason="wrong amount typed",
            ),
        )
        message = to_cloudevent(last(record), 9)
        assert message is not None
        assert message["type"] == "carelog.entry.corrected.v1"
        assert message["data"]["corrected_event_id"] == changed
        assert message["data"]["corrected_fields"] == ["dose"]
        assert "wrong amount" not in json.dumps(message)
        assert {"amount": 75, "unit": "mg"} not in message["data"].values()


class TestRoleRedaction:
    @pytest.fixture
    def dose_change(self, record: PatientRecord) -> dict[str, Any]:
        order_id = prescribe(record)
        record.change_dose(
            ctx(),
            c.ChangeDose(
                order_id=order_id, dose=Dose(100, "mg"), reason="partial response after six weeks"
            ),
        )
        message = to_cloudevent(last(record), 3)
        assert message is not None
        return message

    def test_a_pharmacist_sees_the_whole_dose_change(self, dose_change: dict[str, Any]) -> None:
        seen = redact_for_role(dose_change, "pharmacist")
        assert seen is not None
        assert seen["data"]["reason"] == "partial response after six weeks"

    def test_a_therapist_sees_the_new_dose_but_not_the_prescribers_reason(
        self, dose_change: dict[str, Any]
    ) -> None:
        seen = redact_for_role(dose_change, "therapist")
        assert seen is not None
        assert seen["data"]["dose"] == {"amount": 100, "unit": "mg"}
        assert "reason" not in seen["data"]
        assert {"effective_at", "position", "actor"} <= set(seen["data"])
        assert seen["id"] == dose_change["id"]
        assert seen["subject"] == dose_change["subject"]

    @pytest.mark.parametrize("role", ["auditor", "admin", "outsider-role"])
    def test_roles_without_a_clinical_feed_get_nothing(
        self, dose_change: dict[str, Any], role: str
    ) -> None:
        assert redact_for_role(dose_change, role) is None

    def test_a_pharmacist_gets_no_notes(self, record: PatientRecord) -> None:
        record.add_note(ctx(THER), c.AddNote(kind="progress", modality="CBT", text=SECRET))
        message = to_cloudevent(last(record), 1)
        assert message is not None
        assert redact_for_role(message, "pharmacist") is None
        assert redact_for_role(message, "psychiatrist") is not None

    def test_a_pharmacist_sees_a_score_but_not_its_items_or_summary(
        self, record: PatientRecord
    ) -> None:
        record.record_assessment(
            ctx(),
            c.RecordAssessment(
                instrument="PHQ-9", item_scores=[2] * 9, summary="low mood since the divorce"
            ),
        )
        message = to_cloudevent(last(record), 1)
        assert message is not None
        seen = redact_for_role(message, "pharmacist")
        assert seen is not None
        assert seen["data"]["total"] == 18
        assert "item_scores" not in seen["data"]
        assert "summary" not in seen["data"]
        full = redact_for_role(message, "psychiatrist")
        assert full is not None
        assert full["data"]["item_scores"] == [2] * 9

    def test_a_type_this_reader_does_not_know_is_not_passed_on(
        self, dose_change: dict[str, Any]
    ) -> None:
        newer = {**dose_change, "type": "carelog.medication.dose-changed.v2"}
        assert redact_for_role(newer, "psychiatrist") is None


class TestTopicsAndCatalogue:
    def test_every_type_is_versioned_and_goes_to_an_api_topic(self) -> None:
        for ce_type, topic in TOPIC_OF.items():
            assert re.fullmatch(r"carelog\.[a-z-]+\.[a-z-]+\.v\d+", ce_type), ce_type
            assert topic in TOPICS
        assert set(TOPICS) == {"carelog.plan-changes", "carelog.clinical", "carelog.notes"}

    def test_plan_changes_carry_medication_alerts_and_care_team(self) -> None:
        plan = {f.event for f in CONTRACT if f.topic == "carelog.plan-changes"}
        assert {
            "MedicationPrescribed",
            "DoseChanged",
            "MedicationDiscontinued",
            "SafetyAlertRaised",
            "SafetyAlertResolved",
            "CareTeamMemberAssigned",
        } <= plan

    def test_a_pharmacists_subscriber_does_not_read_the_notes_topic(self) -> None:
        assert role_topics("pharmacist") == ("carelog.plan-changes", "carelog.clinical")
        assert role_topics("therapist") == TOPICS
        assert role_topics("auditor") == ()
        assert role_topics("admin") == ()

    def test_every_patient_event_is_either_in_the_feed_or_kept_in_on_purpose(self) -> None:
        internal = {"Created", "Event", "PatientRegistered"}
        events = {
            name
            for name, value in vars(PatientRecord).items()
            if isinstance(value, type) and hasattr(value, "TOPIC")
        }
        undecided = events - set(FEED_TYPES) - set(NEVER_LEAVES) - internal
        assert not undecided, f"decide whether these leave in a feed: {undecided}"

    def test_the_readme_documents_every_feed_type(self) -> None:
        readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
        missing = [t for t in TOPIC_OF if t not in readme]
        assert not missing, f"README 'Feeds' lacks {missing}"
