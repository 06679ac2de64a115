"""The FHIR export of a whole record: valid R4B, self-contained, and private where it must be."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from domain.errors import InvalidInputError, NotFoundError
from services.interop.fhir import build_bundle
from tests.fhir_support import (
    PROGRESS,
    SECRET,
    Story,
    by_id,
    check_bundle,
    day,
    of_type,
)

CLOCKS = [
    {},
    {"as_of": day(5)},
    {"as_of": day(12)},
    {"effective_at": day(16)},
    {"as_of": day(20), "effective_at": day(11)},
]


class TestValidity:
    @pytest.mark.parametrize("clock", CLOCKS)
    @pytest.mark.parametrize("notes", [False, True])
    def test_every_resource_parses_and_every_reference_resolves(
        self, story: Story, clock: dict[str, datetime], notes: bool
    ) -> None:
        bundle = build_bundle(
            story.history(), story.patient_id, include_progress_notes=notes, now=day(100), **clock
        )
        resources = check_bundle(bundle)
        kinds = {r["resourceType"] for r in resources.values()}
        assert {"Patient", "CareTeam", "MedicationRequest", "Provenance"} <= kinds

    def test_the_full_record_holds_every_kind_of_resource_the_story_made(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id, include_progress_notes=True)
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert kinds == {
            "Patient",
            "AllergyIntolerance",
            "Practitioner",
            "CareTeam",
            "Consent",
            "MedicationRequest",
            "MedicationStatement",
            "List",
            "QuestionnaireResponse",
            "Observation",
            "ClinicalImpression",
            "AdverseEvent",
            "DetectedIssue",
            "Communication",
            "DocumentReference",
            "Goal",
            "Condition",
            "Organization",
            "CarePlan",
            "Provenance",
        }

    def test_ids_are_stable_from_one_export_to_the_next(self, story: Story) -> None:
        first = build_bundle(story.history(), story.patient_id, now=day(100))
        second = build_bundle(story.history(), story.patient_id, now=day(100))
        assert by_id(first) == by_id(second)
        assert first["id"] != second["id"]  # each export is its own bundle

    def test_the_patient_keeps_carelog_id_and_mrn(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        (patient,) = of_type(bundle, "Patient")
        assert patient["id"] == story.patient_id
        assert patient["birthDate"] == "1984-02-03"
        assert "MRN-STORY" in [i["value"] for i in patient["identifier"]]
        allergies = sorted(a["code"]["text"] for a in of_type(bundle, "AllergyIntolerance"))
        assert allergies == ["latex", "penicillin"]

    def test_the_clocks_are_stated_on_the_bundle(self, story: Story) -> None:
        bundle = build_bundle(
            story.history(), story.patient_id, as_of=day(5), effective_at=day(4), now=day(100)
        )
        stated = {
            e["url"].rsplit("/", 1)[1]: e["valueDateTime"] for e in bundle["meta"]["extension"]
        }
        assert stated == {"as-of": "2026-01-10T09:00:00Z", "effective-at": "2026-01-09T09:00:00Z"}
        assert bundle["timestamp"] == "2026-04-15T09:00:00Z"


class TestRefusals:
    def test_a_time_without_a_zone_is_refused(self, story: Story) -> None:
        with pytest.raises(InvalidInputError, match="time zone"):
            build_bundle(story.history(), story.patient_id, as_of=day(5).replace(tzinfo=None))

    def test_as_of_before_registration_is_not_found(self, story: Story) -> None:
        with pytest.raises(NotFoundError, match="not registered yet"):
            build_bundle(story.history(), story.patient_id, as_of=day(-1))


class TestPrivacy:
    @pytest.mark.parametrize("notes", [False, True])
    def test_a_psychotherapy_note_leaves_no_trace_at_all(self, story: Story, notes: bool) -> None:
        bundle = build_bundle(story.history(), story.patient_id, include_progress_notes=notes)
        text = json.dumps(bundle)
        assert SECRET not in text
        assert base64.b64encode(SECRET.encode()).decode()[:16] not in text
        assert story.ids["psychotherapy"] not in text
        assert story.ids["correct_psychotherapy"] not in text
        assert "CBT" not in text  # not even its modality
        shown = {p["extension"][0]["valueString"] for p in of_type(bundle, "Provenance")}
        hidden = {story.ids["psychotherapy"], story.ids["correct_psychotherapy"]}
        if not notes:
            hidden.add(story.ids["progress"])
        assert shown == {e.event_id for e in story.events} - hidden

    def test_progress_notes_only_when_the_caller_may_read_them(self, story: Story) -> None:
        without = build_bundle(story.history(), story.patient_id)
        assert not of_type(without, "DocumentReference")
        assert PROGRESS not in json.dumps(without)
        assert story.ids["progress"] not in json.dumps(without)

        with_notes = build_bundle(story.history(), story.patient_id, include_progress_notes=True)
        (document,) = of_type(with_notes, "DocumentReference")
        assert document["type"]["coding"][0]["code"] == "11506-3"
        data = document["content"][0]["attachment"]["data"]
        assert base64.b64decode(data).decode() == PROGRESS
