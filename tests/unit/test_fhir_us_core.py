"""Every export of any history conforms to US Core 6.1.0 (hypothesis), on both clocks.

A history is a random run of the commands a care team gives (refused ones are simply
refused), some of them entered late; each is exported now, as known at a moment in it, and
as in effect at a moment in it, and ``check_bundle`` holds every bundle to the R4B models
and to the US Core profiles (``tests/fhir_conformance.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.command_context import CommandContext
from domain.errors import CareLogError
from domain.safety import Finding
from domain.safety.pack import default_pack
from services.interop.fhir import build_bundle
from services.writing.commands import Commands
from tests.fhir_conformance import errors_of
from tests.fhir_r4_invariants import r4_errors
from tests.fhir_support import PHARM, PSY, THER, Story, check_bundle, day, of_type, team_joins
from tests.unit import record_builder

DRUGS = tuple(
    Commands(None, None, pack=default_pack()).resolve_drug(name)  # type: ignore[arg-type]
    for name in ("sertraline", "lithium", "quetiapine", "Effexor XR", "zz-unlisted", "Symbyax")
)
"""Drugs as a prescription records them (resolved by the rule pack): single drugs with and
without an RxNorm code, a brand with a formulation, an unknown name, a combination."""
LABS = (
    ("weight", 70.5, "kg"),
    ("lithium level", 0.8, "mmol/L"),
    ("lithium", 5.0, "mg/L"),
    ("ANC", 1800, "cells/µL"),
    ("alt", 40, "U/L"),
    ("LFTs", None, None),
    ("qtc", 450, "ms"),
    ("height", 170, "cm"),
)
CODES = ("F32.1", "F41.1", "F33.1", "G40.909", "F90.9", "F50.2")

step = st.tuples(
    st.sampled_from(
        (
            "prescribe",
            "change_dose",
            "discontinue",
            "phq9",
            "clinical",
            "goal",
            "goal_status",
            "side_effect",
            "lab",
            "fact",
            "condition",
            "resolve",
            "sex",
            "pregnancy",
            "consent",
            "follow_up",
            "note",
            "remove",
            "emergency",
            "correct",
            "alert",
            "resolve_alert",
        )
    ),
    st.integers(0, 5),  # which item (drug, lab, code ...)
    st.booleans(),  # entered late (effective two days before it is recorded)
)


def apply(story: Story, n: int, kind: str, pick: int, late: bool) -> None:
    when = day(n + 1)
    late_at = {"effective_at": when - timedelta(days=2)} if late else {}
    plan = story.record.plan
    orders = [o for o, v in plan.orders.items() if v.status == "active"]
    actions: dict[str, tuple[Any, str, dict[str, Any]]] = {
        "prescribe": (
            PSY,
            "prescribe",
            {
                "order_id": str(uuid4()),
                "drug": dict(DRUGS[pick % len(DRUGS)]),
                "dose": {"amount": 25 * (pick + 1), "unit": "mg"},
                "frequency": ("once daily", "twice daily", "at night as needed")[pick % 3],
                "route": "oral",
                "indication": "Depression",
                **late_at,
            },
        ),
        "change_dose": (
            PSY,
            "change_dose",
            {
                "order_id": orders[pick % len(orders)] if orders else "none",
                "dose": {"amount": 10 * (pick + 2), "unit": "mg"},
                "reason": "Titration",
                **late_at,
            },
        ),
        "discontinue": (
            PSY,
            "discontinue",
            {
                "order_id": orders[pick % len(orders)] if orders else "none",
                "reason": "Remission",
                "taper": "halve for 2 weeks, then stop" if pick % 2 else None,
                **late_at,
            },
        ),
        "phq9": (
            THER,
            "record_assessment",
            {"instrument": "PHQ-9", "item_scores": [pick % 4] * 9, **late_at},
        ),
        "clinical": (
            PSY,
            "record_assessment",
            {"instrument": "clinical", "diagnoses": [CODES[pick % len(CODES)]], "summary": "s"},
        ),
        "goal": (
            PSY,
            "set_goal",
            {
                "description": "Feel better",
                "target": ("PHQ-9 < 10", "Back to work", None)[pick % 3],
            },
        ),
        "goal_status": (
            PSY,
            "change_goal_status",
            {
                "goal_id": next(iter(plan.goals), "none"),
                "status": ("met", "abandoned", "revised")[pick % 3],
                "note": "n",
            },
        ),
        "side_effect": (
            THER,
            "report_side_effect",
            {
                "order_id": orders[0] if orders else None,
                "effect": "nausea",
                "severity": ("mild", "moderate", "severe")[pick % 3],
                **late_at,
            },
        ),
        "lab": (
            PHARM,
            "record_lab_result",
            dict(zip(("test", "value", "unit"), LABS[pick % len(LABS)], strict=True)),
        ),
        "fact": (
            PHARM,
            "record_fact",
            {"fact": ("smoking status", "CYP2D6 metaboliser")[pick % 2], "value": "never"},
        ),
        "condition": (PSY, "record_condition", {"code": CODES[pick % len(CODES)]}),
        "resolve": (
            PSY,
            "resolve_condition",
            {
                "condition_id": next(iter(plan.conditions), f"dx:{CODES[pick % len(CODES)]}"),
                "reason": "Resolved",
            },
        ),
        "sex": (
            PSY,
            "record_sex_at_birth",
            {"sex_at_birth": ("female", "male", "intersex", "unknown")[pick % 4]},
        ),
        "pregnancy": (
            PSY,
            "record_pregnancy_status",
            {"status": ("pregnant", "not_pregnant", "lactating", "postpartum")[pick % 4]},
        ),
        "consent": (
            PSY,
            "record_consent",
            {
                "scope": ("treatment", "information sharing")[pick % 2],
                "decision": ("granted", "refused", "withdrawn")[pick % 3],
            },
        ),
        "follow_up": (
            PSY,
            "schedule_follow_up",
            {"due_at": when + timedelta(days=7), "purpose": "p"},
        ),
        "note": (PSY, "add_note", {"kind": "progress", "modality": "supportive", "text": "t"}),
        "remove": (
            PSY,
            "remove_care_team_member",
            {"clinician_id": (THER, PHARM)[pick % 2].id, "reason": "r"},
        ),
        "emergency": (PSY, "grant_emergency_access", {"reason": "crisis"}),
    }
    corrected = [
        e for e in story.events if type(e).__name__ in ("LabResultRecorded", "AssessmentRecorded")
    ]
    if corrected:
        target = corrected[pick % len(corrected)]
        change: dict[str, Any] = (
            {"value": 60.0 + pick}
            if type(target).__name__ == "LabResultRecorded"
            else {"item_scores": [(pick + 1) % 4] * len(target.item_scores)}
            if target.item_scores
            else {"summary": "corrected"}
        )
        actions["correct"] = (
            target_actor(target),
            "correct_entry",
            {"event_id": target.event_id, "fields": change, "reason": "typo"},
        )
    else:
        actions["correct"] = actions["note"]
    if kind == "alert":
        finding = Finding(
            key=f"k{n}",
            rule_id="TEST-RULE",
            kind=("interaction", "suicide_risk", "max_dose")[pick % 3],
            severity=("major", "moderate", "urgent")[pick % 3],
            message="Test alert.",
            action="Check.",
            source="test",
            evidence="K",
            order_ids=tuple(orders[:1]),
        )
        story.record.raise_alert(
            CommandContext(PSY, now=when), finding=finding, rule_pack_version="t"
        )
        story.events.extend(story.record.collect_events())
        return
    open_alerts = [a for a, v in plan.alerts.items() if v.status == "open"]
    actions["resolve_alert"] = (
        PSY,
        "resolve_alert",
        {
            "alert_id": open_alerts[0] if open_alerts else "none",
            "resolution": "acknowledged",
            "reason": "Discussed",
            **(
                {"action": "risk_assessment_done", "result": "low"}
                if open_alerts and plan.alerts[open_alerts[0]].kind == "suicide_risk"
                else {}
            ),
        },
    )
    actor, method, fields = actions[kind]
    try:
        story.act(f"{n}-{kind}", actor, when, method, **fields)
    except CareLogError:
        story.record.collect_events()  # a refused command leaves nothing behind


def target_actor(event: Any) -> Any:
    """Corrections are made by the entry's author."""
    return next(a for a in (PSY, THER, PHARM) if a.id == event.actor_id)


def new_story() -> Story:
    story = record_builder.new_story(
        "MRN-HYP", "Hypo Thesis", "1990-05-05", allergies=["penicillin"]
    )
    team_joins(story)
    return story


class TestEveryHistory:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(step, min_size=1, max_size=25), st.floats(0, 1), st.floats(0, 1))
    def test_exports_conform_to_us_core_under_both_clocks(
        self, steps: list[tuple[str, int, bool]], known: float, effective: float
    ) -> None:
        story = new_story()
        for n, (kind, pick, late) in enumerate(steps):
            apply(story, n, kind, pick, late)
        history, pid = story.history(), story.patient_id
        end = len(steps) + 1
        for clock in (
            {},
            {"as_of": day(known * end)},
            {"effective_at": day(effective * end)},
            {"as_of": day(known * end), "effective_at": day(effective * end)},
        ):
            check_bundle(build_bundle(history, pid, include_progress_notes=True, **clock))


class TestTheCheckerCatchesWhatItShould:
    def test_a_goal_detail_without_its_measure_breaks_gol_1(self) -> None:
        goal = {
            "resourceType": "Goal",
            "id": "g",
            "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-goal"]},
            "lifecycleStatus": "active",
            "description": {"text": "PHQ-9 below 10"},
            "subject": {"reference": "Patient/p"},
            "target": [{"detailString": "PHQ-9 < 10"}],
        }
        assert any(e.startswith("gol-1") for e in errors_of(goal))
        goal["target"] = [{"measure": {"text": "PHQ-9 total score"}, "detailString": "< 10"}]
        assert errors_of(goal) == []

    def test_a_patient_without_gender_or_a_family_name_fails(self) -> None:
        patient = {
            "resourceType": "Patient",
            "id": "p",
            "meta": {
                "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
            },
            "identifier": [{"system": "urn:x", "value": "1"}],
            "name": [{"text": "Story Patient"}],
        }
        errors = errors_of(patient)
        assert "Patient.gender: min 1, found 0" in errors
        assert any(e.startswith("us-core-6") for e in errors)

    def test_a_weight_without_loinc_or_ucum_fails_the_body_weight_profile(self) -> None:
        weight = {
            "resourceType": "Observation",
            "id": "o",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"text": "weight"},
            "subject": {"reference": "Patient/p"},
            "effectiveDateTime": "2026-01-01",
            "valueQuantity": {"value": 80, "unit": "kg"},
        }
        errors = errors_of(weight)
        assert any("does not declare" in e and "us-core-body-weight" in e for e in errors)
        assert any(e.startswith("Observation.code: patternCodeableConcept") for e in errors)
        assert any(e.startswith("Observation.value[x]:valueQuantity.code: min 1") for e in errors)

    def test_a_wrong_code_in_a_required_binding_fails(self) -> None:
        care_plan: dict[str, Any] = {
            "resourceType": "CarePlan",
            "id": "c",
            "meta": {
                "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan"]
            },
            "text": {
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>',
            },
            "status": "finished",
            "intent": "plan",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                            "code": "assess-plan",
                        }
                    ]
                }
            ],
            "subject": {"reference": "Patient/p"},
        }
        assert errors_of(care_plan) == [
            "CarePlan.status: 'finished' not in http://hl7.org/fhir/ValueSet/request-status"
        ]


class TestLabCodes:
    def test_a_lithium_level_has_its_loinc_ucum_and_the_rules_range(self) -> None:
        story = new_story()
        story.act(
            "lab",
            PHARM,
            day(1),
            "record_lab_result",
            test="lithium level",
            value=1.3,
            unit="mmol/L",
        )
        story.act(
            "odd", PHARM, day(1.1), "record_lab_result", test="lithium", value=9.0, unit="mg/L"
        )
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        level, odd = [o for o in of_type(bundle, "Observation") if "lithium" in o["code"]["text"]]
        assert level["code"]["coding"][0]["code"] == "14334-7"
        assert level["valueQuantity"]["code"] == "mmol/L"
        (edge,) = level["referenceRange"]
        assert edge["high"]["value"] == 1.2
        assert "LAB-LITHIUM-LEVEL-HIGH" in edge["text"]
        assert "coding" not in odd["code"]  # mg/L is not the unit of 14334-7: no code claimed

    def test_base_invariants_of_unprofiled_resources_are_checked(self) -> None:
        listed = {
            "resourceType": "List",
            "id": "l",
            "status": "current",
            "mode": "snapshot",
            "emptyReason": {"text": "none"},
            "entry": [{"item": {"reference": "urn:uuid:x"}}],
        }
        assert [e.split(":")[0] for e in r4_errors(listed)] == ["lst-1"]
        statement = {
            "resourceType": "MedicationStatement",
            "id": "m",
            "effectivePeriod": {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01"},
        }
        assert [e.split(":")[0] for e in r4_errors(statement)] == ["per-1"]
