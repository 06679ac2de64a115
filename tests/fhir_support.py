"""Checking FHIR exports, and a small in-memory patient story to export.

``check_bundle`` parses the bundle and every resource with the ``fhir.resources`` R4B models
(a third-party model of the FHIR specification), resolves every reference inside the bundle
and checks the codes the models leave unchecked (statuses and the like) against the value
sets of the specification. The story is told through the real aggregate on a fixed clock,
without a store, for fast unit tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.patient_record import PatientRecord
from domain.safety import Finding
from tests.command_builder import CLASSES, record_call
from tests.fhir_conformance import BASE_VALUE_SETS, assert_conformant


def _base(name: str) -> set[str]:
    """The codes of a base R4 value set, as the conformance check lists them (one list)."""
    return BASE_VALUE_SETS[f"http://hl7.org/fhir/ValueSet/{name}"]


VALUE_SETS: dict[tuple[str, str], set[str]] = {
    ("MedicationRequest", "status"): _base("medicationrequest-status"),
    ("MedicationRequest", "intent"): _base("medicationrequest-intent"),
    ("MedicationStatement", "status"): {
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    },
    ("Observation", "status"): _base("observation-status"),
    ("QuestionnaireResponse", "status"): _base("questionnaire-answers-status"),
    ("DetectedIssue", "status"): _base("observation-status"),
    ("DetectedIssue", "severity"): {"high", "moderate", "low"},
    ("AdverseEvent", "actuality"): {"actual", "potential"},
    ("Consent", "status"): {
        "draft",
        "proposed",
        "active",
        "rejected",
        "inactive",
        "entered-in-error",
    },
    ("Communication", "status"): {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    },
    ("CarePlan", "status"): _base("request-status"),
    ("CarePlan", "intent"): _base("care-plan-intent"),
    ("Goal", "lifecycleStatus"): _base("goal-status"),
    ("CareTeam", "status"): _base("care-team-status"),
    ("ClinicalImpression", "status"): {"in-progress", "completed", "entered-in-error"},
    ("DocumentReference", "status"): _base("document-reference-status"),
    ("DocumentReference", "docStatus"): _base("composition-status"),
    ("List", "status"): {"current", "retired", "entered-in-error"},
    ("List", "mode"): {"working", "snapshot", "changes"},
}


def references(node: Any) -> Iterator[dict[str, Any]]:
    """Every Reference (a dict with a ``reference``) anywhere inside ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def check_bundle(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Validate a bundle; returns its resources by fullUrl."""
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    json.dumps(bundle)  # plain JSON all the way down
    Bundle.model_validate(bundle)
    by_url: dict[str, dict[str, Any]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert entry["fullUrl"] not in by_url, f"duplicate entry {entry['fullUrl']}"
        by_url[entry["fullUrl"]] = resource
        for (kind, element), allowed in VALUE_SETS.items():
            if resource["resourceType"] == kind and element in resource:
                assert resource[element] in allowed, (kind, element, resource[element])
    for resource in by_url.values():
        for reference in references(resource):
            target = by_url.get(reference["reference"])
            assert target is not None, (
                f"{resource['resourceType']} refers to {reference} outside the bundle"
            )
            if "type" in reference:
                assert reference["type"] == target["resourceType"]
    assert_conformant(bundle)  # US Core 6.1.0, and the base invariants of what it profiles
    assert_importable(bundle)
    return by_url


def assert_importable(bundle: dict[str, Any]) -> None:
    """Every resource has its version, last update and the view's tag, and identifiers
    that name it alone (a receiver matches on them)."""
    owners: dict[tuple[str, str], str] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        meta = resource["meta"]
        assert meta["versionId"], resource["id"]
        assert meta["lastUpdated"], resource["id"]
        assert meta["tag"][0]["system"].endswith("/CodeSystem/export-view")
        identifiers = resource.get("identifier", [])
        if isinstance(identifiers, dict):
            identifiers = [identifiers]
        for identifier in identifiers:
            key = (identifier["system"], identifier["value"])
            assert owners.setdefault(key, resource["id"]) == resource["id"], (
                f"{key} names two resources"
            )


def of_type(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def by_id(bundle: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (e["resource"]["resourceType"], e["resource"]["id"]): e["resource"] for e in bundle["entry"]
    }


def provenance_event_ids(bundle: dict[str, Any]) -> set[str]:
    return {p["extension"][0]["valueString"] for p in of_type(bundle, "Provenance")}


# -- an in-memory story ---------------------------------------------------------------------
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PSY = Actor(str(uuid4()), Role.PSYCHIATRIST, "Dr Story")
THER = Actor(str(uuid4()), Role.THERAPIST, "Story Therapist")
PHARM = Actor(str(uuid4()), Role.PHARMACIST, "Story Pharmacist", prescriber=True)
ON_CALL = Actor(str(uuid4()), Role.PSYCHIATRIST, "On-call Psychiatrist")
SECRET = "PSYCHOTHERAPY-SECRET-7731"
PROGRESS = "Progress: sleeping better, mood brighter."
PHQ9_ITEMS = [2, 2, 1, 1, 0, 1, 1, 0, 1]
GAD7_ITEMS = [1, 2, 1, 0, 0, 1, 3]


@dataclass
class Story:
    """A patient's record told through the aggregate; ``at`` names the moments."""

    record: PatientRecord
    events: list[Any] = field(default_factory=list)
    at: dict[str, datetime] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def patient_id(self) -> str:
        return str(self.record.id)

    def act(self, name: str, actor: Actor, when: datetime, method: str, **fields: Any) -> str:
        context = CommandContext(actor, now=when)
        if method in CLASSES:
            cmd, extras = record_call(method, fields)
            getattr(self.record, method)(context, cmd, **extras)
        else:  # what CareLog does itself (an alert closed by the system)
            getattr(self.record, method)(context, **fields)
        self.at[name] = when
        event = self.record.pending_events[-1]
        self.ids[name] = event.event_id  # type: ignore[attr-defined]
        self.events.extend(self.record.collect_events())
        return str(self.ids[name])

    def history(self) -> StoryHistory:
        return StoryHistory(self)


class StoryHistory:
    """The one thing ``build_bundle`` asks of a History: a patient's events."""

    def __init__(self, story: Story) -> None:
        self.story = story

    def events(self, patient_id: str) -> list[Any]:
        assert patient_id == self.story.patient_id
        return list(self.story.events)


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def team_joins(story: Story) -> None:
    """The therapist and the pharmacist join the care team, assigned by the psychiatrist
    on day 0.1 (each act named ``assign_<role>``)."""
    for actor in (THER, PHARM):
        story.act(
            f"assign_{actor.role}",
            PSY,
            day(0.1),
            "assign_care_team_member",
            clinician_id=actor.id,
            clinician_name=actor.name,
            role=str(actor.role),
        )


def tell_story() -> Story:
    """Registration to discontinuation: every kind of entry, a late entry, corrections, a
    psychotherapy note (and its correction), emergency access, a clinician leaving the team,
    and consent withdrawn."""
    record = PatientRecord.register(
        CommandContext(PSY, now=day(0)),
        c.RegisterPatient(
            external_id="MRN-STORY",
            name="Story Patient",
            birth_date=date.fromisoformat("1984-02-03"),
            allergies=["penicillin", "latex"],
        ),
        patient_id=uuid4(),
    )
    story = Story(record)
    story.at["registered"] = day(0)
    story.ids["registered"] = record.pending_events[0].event_id  # type: ignore[attr-defined]
    story.events.extend(record.collect_events())
    team_joins(story)
    story.act("consent", PSY, day(0.2), "record_consent", scope="treatment", decision="granted")
    story.act("phq9", THER, day(1), "record_assessment", instrument="PHQ-9", item_scores=PHQ9_ITEMS)
    story.act(
        "gad7", THER, day(1.1), "record_assessment", instrument="GAD-7", item_scores=GAD7_ITEMS
    )
    story.act(
        "clinical",
        PSY,
        day(1.2),
        "record_assessment",
        instrument="clinical",
        diagnoses=["F32.1"],
        summary="Moderate depressive episode.",
    )
    story.act(
        "goal",
        PSY,
        day(1.3),
        "set_goal",
        description="PHQ-9 below 10",
        target="PHQ-9 < 10",
        due_date="2026-04-01",
    )
    order = str(uuid4())
    story.ids["order"] = order
    story.act(
        "prescribe",
        PSY,
        day(2),
        "prescribe",
        order_id=order,
        drug={"name": "sertraline", "rxnorm": "36437", "generic": "sertraline"},
        dose={"amount": 50, "unit": "mg"},
        frequency="once daily",
        route="oral",
        indication="Major depressive disorder",
        instructions="Take with breakfast",
    )
    story.act(
        "education",
        PHARM,
        day(2.1),
        "record_education",
        topic="Starting sertraline",
        order_id=order,
        materials="Leaflet S-1",
    )
    story.act(
        "psychotherapy", THER, day(3), "add_note", kind="psychotherapy", modality="CBT", text=SECRET
    )
    story.act(
        "progress", PSY, day(3.1), "add_note", kind="progress", modality="supportive", text=PROGRESS
    )
    story.act(
        "dose_change",
        PSY,
        day(10),
        "change_dose",
        order_id=order,
        dose={"amount": 100, "unit": "mg"},
        reason="Partial response",
    )
    story.act(
        "side_effect",
        THER,
        day(11),
        "report_side_effect",
        order_id=order,
        effect="nausea",
        severity="mild",
        action_taken="Take with food",
    )
    finding = Finding(
        key="k1",
        rule_id="MAX-SERTRALINE",
        kind="max_dose",
        severity="major",
        message="Above the usual maximum.",
        action="Check the dose.",
        source="Zoloft label",
        evidence="K",
        order_ids=(order,),
    )
    record.raise_alert(
        CommandContext(PSY, now=day(10)), finding=finding, rule_pack_version="test-1"
    )
    story.at["alert"] = day(10)
    story.ids["alert"] = record.pending_events[-1].event_id  # type: ignore[attr-defined]
    story.ids["alert_id"] = record.pending_events[-1].alert_id  # type: ignore[attr-defined]
    story.events.extend(record.collect_events())
    story.act(
        "resolve",
        PHARM,
        day(12),
        "resolve_alert",
        alert_id=story.ids["alert_id"],
        resolution="acknowledged",
        reason="Discussed with prescriber",
    )
    story.act(
        "follow_up",
        PSY,
        day(12.5),
        "schedule_follow_up",
        due_at=day(20),
        purpose="Check-in after the dose change",
    )
    story.act("lab", PHARM, day(13), "record_lab_result", test="weight", value=81.0, unit="kg")
    story.act("fact", PHARM, day(13.1), "record_fact", fact="smoking status", value="never")
    story.act(
        "adherence",
        PHARM,
        day(14),
        "record_adherence",
        order_id=order,
        doses_taken=12,
        doses_missed=1,
        period_start="2026-01-07",
        period_end="2026-01-19",
    )
    story.act(
        "review",
        PHARM,
        day(14.5),
        "review_plan",
        outcome="no changes",
        summary="No interactions of concern.",
    )
    follow_up_id = next(iter(record.plan.follow_ups))
    story.act(
        "follow_up_done",
        PSY,
        day(20),
        "complete_follow_up",
        follow_up_id=follow_up_id,
        outcome="Feeling better",
    )
    # A late entry: told on day 25 about a headache on day 15.
    story.act(
        "late_side_effect",
        THER,
        day(25),
        "report_side_effect",
        order_id=order,
        effect="headache",
        severity="moderate",
        effective_at=day(15),
    )
    story.act(
        "correct_psychotherapy",
        THER,
        day(26),
        "correct_entry",
        event_id=story.ids["psychotherapy"],
        fields={"text": SECRET + " (amended)"},
        reason="typo",
    )
    story.act(
        "correct_phq9",
        THER,
        day(27),
        "correct_entry",
        event_id=story.ids["phq9"],
        fields={"item_scores": [2, 2, 1, 1, 0, 1, 1, 0, 0]},
        reason="misread item 9",
    )
    story.act(
        "goal_met",
        PSY,
        day(40),
        "change_goal_status",
        goal_id=record.plan.goals and next(iter(record.plan.goals)),
        status="met",
        note="PHQ-9 at 4",
    )
    story.act(
        "emergency", ON_CALL, day(50), "grant_emergency_access", reason="Crisis call at night"
    )
    story.act(
        "remove_pharmacist",
        PSY,
        day(55),
        "remove_care_team_member",
        clinician_id=PHARM.id,
        reason="Moved to another clinic",
    )
    story.act(
        "discontinue",
        PSY,
        day(60),
        "discontinue",
        order_id=order,
        reason="Remission",
        taper="50 mg for 2 weeks, then stop",
    )
    story.act("withdraw", PSY, day(61), "record_consent", scope="treatment", decision="withdrawn")
    tell_problem_list(story)
    story.act(
        "pharmacogenomic",
        PSY,
        day(62),
        "record_pharmacogenomic_result",
        gene="CYP2D6",
        diplotype="*1/*4",
        lab="GeneLab",
        report_date="2026-02-20",
    )
    return story


def tell_problem_list(story: Story) -> None:
    """The problem list, sex at birth and pregnancy status: a condition recorded and
    resolved, the assessment's diagnosis resolved, a pregnancy and then lactation."""
    story.act("sex_at_birth", PSY, day(62), "record_sex_at_birth", sex_at_birth="female")
    story.act(
        "condition",
        PSY,
        day(62.1),
        "record_condition",
        code="F41.1",
        display="Generalised anxiety disorder",
        onset_date="2025-11-01",
        verification_status="provisional",
    )
    story.act(
        "condition_resolved",
        PSY,
        day(70),
        "resolve_condition",
        condition_id=story.record.plan.conditions and next(iter(story.record.plan.conditions)),
        reason="Remission",
    )
    story.act(
        "diagnosis_resolved",
        PSY,
        day(70.1),
        "resolve_condition",
        condition_id="dx:F32.1",
        reason="In full remission",
    )
    story.act(
        "pregnant",
        PSY,
        day(71),
        "record_pregnancy_status",
        status="pregnant",
        expected_delivery_date="2026-10-01",
    )
    story.act("lactating", PSY, day(72), "record_pregnancy_status", status="lactating")


def _without_view(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> dict[tuple[str, str], dict[str, Any]]:
    """Resources without the view's tag and times (part of the envelope: every resource of
    an as-of export says so)."""
    out = {}
    for key, resource in resources.items():
        meta = {k: v for k, v in resource.get("meta", {}).items() if k not in ("tag", "extension")}
        out[key] = {**resource, "meta": meta}
    return out


def assert_differ_by_events(
    older: dict[str, Any], newer: dict[str, Any], event_ids: set[str]
) -> None:
    """``newer`` is ``older`` plus exactly the events ``event_ids``: one new Provenance per
    event, every new or changed resource a target of one of them, each of them changing
    something, and nothing else different (the envelope aside)."""
    old_events, new_events = provenance_event_ids(older), provenance_event_ids(newer)
    assert old_events <= new_events
    assert new_events - old_events == event_ids
    old, new = _without_view(by_id(older)), _without_view(by_id(newer))
    assert set(old) <= set(new), "a resource vanished"
    changed = {key for key, resource in new.items() if old.get(key) != resource}
    fresh = [
        p for p in of_type(newer, "Provenance") if p["extension"][0]["valueString"] in event_ids
    ]
    assert {("Provenance", p["id"]) for p in fresh} == {k for k in changed if k[0] == "Provenance"}
    targeted = {
        (t["type"], t["reference"].removeprefix("urn:uuid:")) for p in fresh for t in p["target"]
    }
    assert {k for k in changed if k[0] != "Provenance"} <= targeted
    for provenance in fresh:
        keys = {(t["type"], t["reference"].removeprefix("urn:uuid:")) for t in provenance["target"]}
        assert keys & changed, f"{provenance['activity']['text']} changed nothing"
