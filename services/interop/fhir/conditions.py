"""The problem list as US Core ``Condition``s, and sex at birth and pregnancy status as
``Observation``s.

Conditions come from the same two places the plan's problem list reads
(``domain/problem_list.py``): each ``ConditionRecorded`` entry is one Condition, and each
ICD-10-CM code diagnosed in assessments is one more (CareLog's id ``dx:<code>``), unless the
code was recorded as a condition too. All are ``problem-list-item``s coded in ICD-10-CM; a
resolution makes the Condition ``resolved`` with its ``abatementDateTime`` rather than
removing it, so a receiver that imported it learns it ended.

Sex at birth rides on the Patient (``us-core-birthsex``) and, so that its entry has a
resource of its own, as an Observation (LOINC 76689-9). Each pregnancy status entry is one
Observation: pregnancy status (LOINC 82810-3, US Core's pregnancy-status profile), or
breastfeeding status (LOINC 63895-7) for lactating, or postpartum as a pregnancy status.
"""

from __future__ import annotations

import re
from typing import Any

from domain.plan import event_type
from domain.plan_records import Assessment
from domain.problem_list import active_conditions, diagnosis_id, normalise_code
from services.interop.fhir import vocabulary as v
from services.interop.fhir.patient import SEX_AT_BIRTH_VALUES, patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, fhir_date, instant, resource_id
from services.interop.fhir.selection import Selection

PROBLEM_LIST_ITEM = v.concept(
    "Problem List Item",
    v.coding(v.CONDITION_CATEGORY, "problem-list-item", "Problem List Item"),
)
SOCIAL_HISTORY = v.concept(
    "Social History", v.coding(v.OBSERVATION_CATEGORY, "social-history", "Social History")
)
VERIFICATION = {
    "confirmed": "Confirmed",
    "provisional": "Provisional",
    "differential": "Differential",
}
SEX_ASSIGNED_AT_BIRTH = "76689-9"
PREGNANCY_STATUS = "82810-3"
BREASTFEEDING_STATUS = "63895-7"
PREGNANCY_VALUES = {
    "pregnant": ("77386006", "Pregnant"),
    "not_pregnant": ("60001007", "Not pregnant"),
}
"""SNOMED CT values of US Core's pregnancy-status value set."""
EXPECTED_DELIVERY = "11778-8"


def condition_id(key: str) -> str:
    return resource_id("Condition", key)


def icd10_concept(code: str, worded: str | None) -> dict[str, Any]:
    """An ICD-10-CM CodeableConcept: the code's own title as the display where known, the
    clinician's wording as the text."""
    code = normalise_code(code)
    display = v.ICD10_CM_DISPLAYS.get(code) or worded or code
    return v.concept(worded or display, v.coding(v.ICD10_CM, code, display))


def _clinical(status: str) -> dict[str, Any]:
    display = status.capitalize()
    return v.concept(display, v.coding(v.CONDITION_CLINICAL, status, display))


def _verification(status: str) -> dict[str, Any]:
    display = VERIFICATION.get(status, status.capitalize())
    return v.concept(display, v.coding(v.CONDITION_VERIFICATION, status, display))


def _condition(sel: Selection, key: str, code: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": condition_id(key),
        "meta": v.us_core("us-core-condition-problems-health-concerns"),
        # a diagnosis's key (dx:<code>) is per patient: qualified to be unique
        "identifier": [
            v.identifier(
                "condition-id", f"{sel.patient_id}/{key}" if key.startswith("dx:") else key
            )
        ],
        "category": [PROBLEM_LIST_ITEM],
        "code": code,
        "subject": patient_ref(sel),
    }


def condition_entries(sel: Selection) -> list[Entry]:
    """Recorded conditions, then the codes diagnosed in assessments."""
    entries: list[Entry] = []
    recorded_codes = set()
    for condition in sel.state.conditions.values():
        recorded_codes.add(normalise_code(condition.code))
        worded: str | None = condition.display
        if worded == f"ICD-10-CM {condition.code}":  # no wording given
            worded = None
        resource = _condition(sel, condition.condition_id, icd10_concept(condition.code, worded))
        resource["verificationStatus"] = _verification(condition.verification_status)
        resource["recordedDate"] = instant(condition.recorded_at)
        resource["recorder"] = practitioner_ref(condition.actor.id)
        if condition.onset_date:
            resource["onsetDateTime"] = condition.onset_date
        resolution = condition.resolution
        if resolution:
            resource["clinicalStatus"] = _clinical("resolved")
            resource["abatementDateTime"] = resolution.resolved_date
            resource["note"] = [{"text": f"Resolved: {resolution.reason}"}]
        else:
            resource["clinicalStatus"] = _clinical("active")
        made_by = [
            condition.event_id,
            *sel.ids_about("condition_id", condition.condition_id, "ConditionResolved"),
        ]
        entries.append(_ordered(resource, made_by))
    entries.extend(_diagnosed(sel, recorded_codes))
    return entries


def _diagnosed(sel: Selection, recorded_codes: set[str]) -> list[Entry]:
    """One Condition per code diagnosed in assessments (not recorded as a condition)."""
    active = {c["condition_id"] for c in active_conditions(sel.state)}
    first: dict[str, Assessment] = {}
    made: dict[str, list[str]] = {}
    for assessment in sel.state.assessments:
        for raw in assessment.diagnoses or []:
            code = normalise_code(raw)
            if code in recorded_codes:
                continue
            first.setdefault(code, assessment)
            made.setdefault(code, []).append(assessment.event_id)
    entries = []
    for code, assessment in first.items():
        key = diagnosis_id(code)
        resource = _condition(sel, key, icd10_concept(code, None))
        resource["verificationStatus"] = _verification("confirmed")
        resource["recordedDate"] = instant(assessment.recorded_at)
        resource["recorder"] = practitioner_ref(assessment.actor.id)
        resource["onsetDateTime"] = instant(assessment.effective_at)
        resolutions = sel.about("condition_id", key, "ConditionResolved")
        if key in active or not resolutions:
            resource["clinicalStatus"] = _clinical("active")
        else:
            latest = max(resolutions, key=lambda e: e.effective_at)
            resource["clinicalStatus"] = _clinical("resolved")
            resource["abatementDateTime"] = latest.resolved_date
            resource["note"] = [{"text": f"Resolved: {latest.reason}"}]
        made_by = [*made[code], *(e.event_id for e in resolutions)]
        entries.append(_ordered(resource, made_by))
    return entries


def _ordered(resource: dict[str, Any], made_by: list[str]) -> Entry:
    """Put ``clinicalStatus`` and ``verificationStatus`` first, as people read them."""
    head = {k: resource[k] for k in ("resourceType", "id", "meta", "identifier")}
    for key in ("clinicalStatus", "verificationStatus"):
        if key in resource:
            head[key] = resource[key]
    return Entry({**head, **resource}, made_by)


def condition_refs(sel: Selection, codes: list[str]) -> list[dict[str, Any]]:
    """References to the Conditions that hold ``codes`` (recorded or diagnosed)."""
    by_code = {normalise_code(c.code): c.condition_id for c in sel.state.conditions.values()}
    refs = []
    for raw in codes:
        code = normalise_code(raw)
        key = by_code.get(code, diagnosis_id(code))
        refs.append({"reference": f"urn:uuid:{condition_id(key)}", "type": "Condition"})
    return refs


def conditions_named(sel: Selection, text: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The Conditions an indication names (by its ICD-10-CM code, or word for word by the
    clinician's wording or the code's title; nothing is guessed from similar words), and
    the events that put them on the list (the request changes with them)."""
    if not text:
        return [], []
    said = " ".join(text.lower().split())
    codes: dict[str, tuple[str, list[str]]] = {
        normalise_code(c.code): (c.display, [c.event_id]) for c in sel.state.conditions.values()
    }
    for assessment in sel.state.assessments:
        for raw in assessment.diagnoses or []:
            code = normalise_code(raw)
            if code not in codes or codes[code][0] == "":
                codes.setdefault(code, ("", []))[1].append(assessment.event_id)
    named, events = [], []
    for code, (worded, made_by) in codes.items():
        words = {code.lower(), v.ICD10_CM_DISPLAYS.get(code, "").lower()}
        words.add(" ".join(worded.lower().split()))
        words.discard("")
        if said in words or re.search(rf"\b{re.escape(code.lower())}\b", said):
            named.append(code)
            events.extend(made_by)
    return condition_refs(sel, named), events


def sex_at_birth_entries(sel: Selection) -> list[Entry]:
    """One Observation per sex-at-birth entry (a correction is a later entry)."""
    entries = []
    for event in sel.events:
        if event_type(event) != "SexAtBirthRecorded":
            continue
        sex = event.sex_at_birth
        if sex in SEX_AT_BIRTH_VALUES:
            system, code, display = SEX_AT_BIRTH_VALUES[sex]
            value = v.concept(display, v.coding(system, code, display))
        else:
            value = v.concept(sex)
        resource = {
            "resourceType": "Observation",
            "id": resource_id("Observation", event.event_id),
            "meta": v.us_core("us-core-simple-observation"),
            "identifier": [v.identifier("event-id", event.event_id)],
            "status": "final",
            "category": [SOCIAL_HISTORY],
            "code": v.concept(
                "Sex assigned at birth",
                v.coding(v.LOINC, SEX_ASSIGNED_AT_BIRTH, "Sex assigned at birth"),
            ),
            "subject": patient_ref(sel),
            "effectiveDateTime": instant(event.effective_at),
            "issued": instant(event.timestamp),
            "performer": [practitioner_ref(event.actor_id)],
            "valueCodeableConcept": value,
        }
        entries.append(Entry(resource, [event.event_id]))
    return entries


def pregnancy_entries(sel: Selection) -> list[Entry]:
    """One Observation per pregnancy status entry."""
    entries = []
    for event in sel.events:
        if event_type(event) != "PregnancyStatusRecorded":
            continue
        entries.append(Entry(_pregnancy(sel, event), [event.event_id]))
    return entries


def _pregnancy(sel: Selection, event: Any) -> dict[str, Any]:
    status = event.status
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id("Observation", event.event_id),
        "identifier": [v.identifier("event-id", event.event_id)],
        "status": "final",
        "category": [SOCIAL_HISTORY],
        "subject": patient_ref(sel),
        "effectiveDateTime": fhir_date(event.as_of),
        "issued": instant(event.timestamp),
        "performer": [practitioner_ref(event.actor_id)],
    }
    if status == "lactating":
        resource["meta"] = v.us_core("us-core-simple-observation")
        resource["code"] = v.concept(
            "Breastfeeding status",
            v.coding(v.LOINC, BREASTFEEDING_STATUS, "Breastfeeding status"),
        )
        resource["valueCodeableConcept"] = v.concept("Lactating")
    else:
        resource["meta"] = v.us_core("us-core-observation-pregnancystatus")
        resource["code"] = v.concept(
            "Pregnancy status", v.coding(v.LOINC, PREGNANCY_STATUS, "Pregnancy status")
        )
        if status in PREGNANCY_VALUES:
            code, display = PREGNANCY_VALUES[status]
            resource["valueCodeableConcept"] = v.concept(display, v.coding(v.SNOMED, code, display))
        else:  # postpartum: not a pregnancy-status code; the words say it
            resource["valueCodeableConcept"] = v.concept("Postpartum")
    if event.expected_delivery_date:
        resource["component"] = [
            {
                "code": v.concept(
                    "Delivery date Estimated",
                    v.coding(v.LOINC, EXPECTED_DELIVERY, "Delivery date Estimated"),
                ),
                "valueDateTime": event.expected_delivery_date,
            }
        ]
    return resource
