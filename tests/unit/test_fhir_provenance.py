"""Provenance in the FHIR export: one per event, with both clocks, the actor and its targets."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from domain.command_context import CommandContext
from domain.patient_record import PatientRecord
from domain.plan import event_type
from domain.safety import Finding
from services.interop.fhir import build_bundle
from services.interop.fhir.references import instant
from tests.fhir_support import PHARM, PSY, Story, by_id, check_bundle, day, of_type
from tests.unit.record_builder import new_story, prescribed


@pytest.fixture(scope="module")
def bundle(story: Story) -> dict[str, Any]:
    return build_bundle(story.history(), story.patient_id, include_progress_notes=True)


def provenance_of(bundle: dict[str, Any], event_id: str) -> dict[str, Any]:
    (found,) = [
        p for p in of_type(bundle, "Provenance") if p["extension"][0]["valueString"] == event_id
    ]
    return found


def target(bundle: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    return by_id(bundle)[(reference["type"], reference["reference"].removeprefix("urn:uuid:"))]


class TestProvenance:
    def test_each_event_states_both_clocks_and_its_actor(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        practitioners = {p["id"]: p for p in of_type(bundle, "Practitioner")}
        for event in story.events:
            if event.event_id in (story.ids["psychotherapy"], story.ids["correct_psychotherapy"]):
                continue
            provenance = provenance_of(bundle, event.event_id)
            assert provenance["recorded"] == instant(event.timestamp)
            assert provenance["occurredDateTime"] == instant(event.effective_at)
            assert provenance["activity"]["text"] == event_type(event)
            (agent,) = provenance["agent"]
            assert agent["role"][0]["coding"][0]["code"] == event.actor_role
            who = practitioners[agent["who"]["reference"].removeprefix("urn:uuid:")]
            assert who["identifier"][0]["value"] == event.actor_id
            assert provenance["target"]

    def test_a_late_entry_occurred_before_it_was_recorded(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        provenance = provenance_of(bundle, story.ids["late_side_effect"])
        assert provenance["occurredDateTime"] == "2026-01-20T09:00:00Z"
        assert provenance["recorded"] == "2026-01-30T09:00:00Z"
        (adverse,) = [target(bundle, t) for t in provenance["target"]]
        assert adverse["event"]["text"] == "headache"

    def test_a_dose_change_targets_the_new_request_and_the_one_it_stopped(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        provenance = provenance_of(bundle, story.ids["dose_change"])
        requests = [
            target(bundle, t) for t in provenance["target"] if t["type"] == "MedicationRequest"
        ]
        assert len(requests) == 2
        new = next(r for r in requests if "priorPrescription" in r)
        old = next(r for r in requests if "priorPrescription" not in r)
        assert new["priorPrescription"]["reference"] == f"urn:uuid:{old['id']}"
        assert old["statusReason"]["text"] == "Dose changed: Partial response"
        assert provenance["reason"] == [{"text": "Partial response"}]

    def test_a_correction_revises_the_entry_it_corrects(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        provenance = provenance_of(bundle, story.ids["correct_phq9"])
        original = provenance_of(bundle, story.ids["phq9"])
        assert provenance["entity"] == [
            {
                "role": "revision",
                "what": {"reference": f"urn:uuid:{original['id']}", "type": "Provenance"},
            }
        ]
        assert provenance["target"] == original["target"]


class TestSafetyResources:
    def test_a_side_effect_suspects_the_medication_in_effect(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        (nausea,) = [a for a in of_type(bundle, "AdverseEvent") if a["event"]["text"] == "nausea"]
        statement = target(bundle, nausea["suspectEntity"][0]["instance"])
        assert statement["resourceType"] == "MedicationStatement"
        extensions = {e["url"].rsplit("/", 1)[1]: e for e in nausea["extension"]}
        request = target(bundle, extensions["suspect-request"]["valueReference"])
        assert request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 100
        assert extensions["action-taken"]["valueString"] == "Take with food"
        assert nausea["severity"]["coding"][0]["code"] == "mild"

    def test_an_alert_is_a_detected_issue_with_its_mitigation(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        (issue,) = of_type(bundle, "DetectedIssue")
        assert issue["severity"] == "high"
        assert issue["code"]["coding"][0]["code"] == "DOSEH"
        assert issue["implicated"] == [provenance_target_request(bundle, story)]
        (mitigation,) = issue["mitigation"]
        assert mitigation["action"]["text"] == "acknowledged: Discussed with prescriber"
        assert mitigation["date"] == "2026-01-17T09:00:00Z"
        author = target(bundle, mitigation["author"])
        assert author["identifier"][0]["value"] == PHARM.id

    def test_consent_withdrawn_is_an_active_denial_that_supersedes_the_grant(
        self, bundle: dict[str, Any]
    ) -> None:
        statuses = sorted((c["status"], c["provision"]["type"]) for c in of_type(bundle, "Consent"))
        assert statuses == [("active", "deny"), ("inactive", "permit")]

    def test_an_alert_is_preliminary_while_open_and_final_once_resolved(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        (resolved,) = of_type(bundle, "DetectedIssue")
        assert resolved["status"] == "final"
        while_open = build_bundle(story.history(), story.patient_id, as_of=day(11))
        (issue,) = of_type(while_open, "DetectedIssue")
        assert issue["status"] == "preliminary"

    def test_a_superseded_alert_is_cancelled_and_names_the_alert_that_replaced_it(self) -> None:
        story = new_story("MRN-SUPERSEDED", "Alert Twice")
        record = story.record
        order = str(uuid4())
        sertraline = {"name": "sertraline", "generic": "sertraline"}
        prescribed(story, sertraline, {"amount": 250, "unit": "mg"}, order_id=order)
        alert_ids = []
        for n in (2, 3):
            finding = Finding(
                key="k1",
                rule_id="MAX-SERTRALINE",
                kind="max_dose",
                severity="major",
                message=f"Above the usual maximum (check {n}).",
                action="Check the dose.",
                source="Zoloft label",
                evidence="K",
                order_ids=(order,),
            )
            record.raise_alert(
                CommandContext(PSY, now=day(n)), finding=finding, rule_pack_version="t"
            )
            alert_ids.append(record.pending_events[-1].alert_id)  # type: ignore[attr-defined]
            story.events.extend(record.collect_events())
        story.act(
            "superseded",
            PSY,
            day(3),
            "resolve_alert_by_system",
            alert_id=alert_ids[0],
            superseded_by=alert_ids[1],
        )
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        issues = {i["identifier"][0]["value"]: i for i in of_type(bundle, "DetectedIssue")}
        old, new = issues[alert_ids[0]], issues[alert_ids[1]]
        assert old["status"] == "cancelled"
        (successor,) = [e for e in old["extension"] if e["url"].endswith("/superseded-by")]
        assert successor["valueReference"]["reference"] == f"urn:uuid:{new['id']}"
        assert new["status"] == "preliminary"  # still open
        (request,) = of_type(bundle, "MedicationRequest")
        assert new["implicated"] == [
            {"reference": f"urn:uuid:{request['id']}", "type": "MedicationRequest"}
        ]

    def test_education_is_a_communication_about_the_request(self, bundle: dict[str, Any]) -> None:
        (told,) = of_type(bundle, "Communication")
        assert told["topic"] == {"text": "Starting sertraline"}
        assert target(bundle, told["about"][0])["resourceType"] == "MedicationRequest"
        assert told["payload"] == [{"contentString": "Leaflet S-1"}]


def provenance_target_request(bundle: dict[str, Any], story: Story) -> dict[str, Any]:
    """The request the dose change created (in effect when the alert fired on day 10)."""
    provenance = provenance_of(bundle, story.ids["dose_change"])
    for reference in provenance["target"]:
        if reference["type"] == "MedicationRequest" and "priorPrescription" in target(
            bundle, reference
        ):
            return reference
    raise AssertionError("no new request")


class TestCoverage:
    def test_every_event_type_of_the_record_lands_in_a_resource_of_its_own(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        """A new event type must be given a FHIR home: otherwise its Provenance could only
        point at the Patient."""
        types = {
            cls.__name__
            for cls in vars(PatientRecord).values()
            if isinstance(cls, type)
            and issubclass(cls, Aggregate.Event)
            and cls.__name__ not in {"Created", "Event"}
        }
        told = {event_type(e) for e in story.events}
        assert told == types, f"the story does not tell {sorted(types - told)}"
        for event in story.events:
            if event.event_id in (story.ids["psychotherapy"], story.ids["correct_psychotherapy"]):
                continue
            targets = {t["type"] for t in provenance_of(bundle, event.event_id)["target"]}
            assert targets - {"Patient"}, f"{event_type(event)} has no resource of its own"

    def test_emergency_access_and_removal_show_on_the_care_team(
        self, bundle: dict[str, Any]
    ) -> None:
        (team,) = of_type(bundle, "CareTeam")
        roles = {p["role"][0]["coding"][0]["code"]: p for p in team["participant"]}
        assert roles["emergency"]["period"] == {
            "start": "2026-02-24T09:00:00Z",
            "end": "2026-02-24T13:00:00Z",
        }
        (pharmacist,) = [
            p for p in team["participant"] if p["role"][0]["coding"][0]["code"] == "pharmacist"
        ]
        assert pharmacist["period"]["end"] == "2026-03-01T09:00:00Z"
