"""Measurements and reported facts as ``Observation``: lab results, clinical facts (smoking
status, metaboliser status ...) and medication adherence."""

from __future__ import annotations

from typing import Any

from domain.plan_records import Adherence, Fact, Lab
from services.interop.fhir import vocabulary as v
from services.interop.fhir.lab_codes import LabCode, lab_code, reference_ranges, ucum
from services.interop.fhir.medications import request_ref_at
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, fhir_date, instant, resource_id
from services.interop.fhir.selection import Selection

VITAL_SIGNS = {"weight", "height", "bmi", "blood pressure", "heart rate", "waist circumference"}


def _category(code: str, display: str) -> dict[str, Any]:
    return v.concept(display, v.coding(v.OBSERVATION_CATEGORY, code, display))


def _base(sel: Selection, item: Lab | Fact | Adherence, rid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "corrected" if item.corrected else "final",
        "subject": patient_ref(sel),
        "effectiveDateTime": instant(item.effective_at),
        "issued": instant(item.recorded_at),
        "performer": [practitioner_ref(item.actor.id)],
    }


DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
TOBACCO_SMOKING_STATUS = "72166-2"
SMOKING_VALUES = {
    "never": ("266919005", "Never smoked tobacco"),
    "never smoked": ("266919005", "Never smoked tobacco"),
    "former": ("8517006", "Ex-smoker"),
    "ex-smoker": ("8517006", "Ex-smoker"),
    "ex smoker": ("8517006", "Ex-smoker"),
    "current": ("77176002", "Smoker"),
    "smoker": ("77176002", "Smoker"),
    "current smoker": ("77176002", "Smoker"),
}
"""Smoking status values as SNOMED CT findings (the US Core smoking status value set)."""


def _lab_profile(code: LabCode | None, vital: bool) -> str:
    if code is not None and code.loinc == "29463-7":
        return "us-core-body-weight"
    if vital:
        return "us-core-simple-observation"  # a vital sign without its LOINC code
    return "us-core-observation-lab"


def _smoking(fact: Fact) -> dict[str, Any]:
    """Smoking status: LOINC 72166-2, its value SNOMED CT coded where the words are clear."""
    said = str(fact.value)
    value = v.concept(said)
    if said.strip().lower() in SMOKING_VALUES:
        code, display = SMOKING_VALUES[said.strip().lower()]
        value = v.concept(said, v.coding(v.SNOMED, code, display))
    return {
        "meta": v.us_core("us-core-smokingstatus"),
        "category": [_category("social-history", "Social History")],
        "code": v.concept(
            fact.fact, v.coding(v.LOINC, TOBACCO_SMOKING_STATUS, "Tobacco smoking status")
        ),
        "valueCodeableConcept": value,
    }


def lab_entries(sel: Selection) -> list[Entry]:
    entries = []
    for lab in sel.state.labs:
        resource = _base(sel, lab, resource_id("Observation", lab.lab_id))
        resource["identifier"] = [v.identifier("lab-id", lab.lab_id)]
        vital = lab.test.lower() in VITAL_SIGNS
        resource["category"] = [
            _category("vital-signs", "Vital Signs")
            if vital
            else _category("laboratory", "Laboratory")
        ]
        code = lab_code(lab.test, lab.unit)
        if code is None:
            resource["code"] = {"text": lab.test}
        else:
            resource["code"] = v.concept(lab.test, v.coding(v.LOINC, code.loinc, code.display))
        resource["meta"] = v.us_core(_lab_profile(code, vital))
        if lab.value is None:
            resource["dataAbsentReason"] = v.concept(
                "No value recorded", v.coding(DATA_ABSENT, "unknown", "Unknown")
            )
        else:
            quantity: dict[str, Any] = {"value": lab.value}
            if str(lab.unit or "").strip():  # FHIR strings may not be blank
                quantity["unit"] = lab.unit
            unit = ucum(lab.unit)
            if unit is not None:
                quantity.update(system=v.UCUM, code=unit)
            resource["valueQuantity"] = quantity
            ranges = reference_ranges(lab.test, lab.unit)
            if ranges:
                resource["referenceRange"] = ranges
        entries.append(Entry(resource, [lab.event_id]))
    return entries


def fact_entries(sel: Selection) -> list[Entry]:
    entries = []
    for fact in sel.state.facts.values():
        resource = _base(sel, fact, resource_id("Observation", sel.patient_id, "fact", fact.fact))
        if "smok" in fact.fact.lower():
            resource.update(_smoking(fact))
        else:
            resource["meta"] = v.us_core("us-core-simple-observation")
            resource["category"] = [_category("exam", "Exam")]
            resource["code"] = {"text": fact.fact}
            resource["valueString"] = str(fact.value)
        made_by = [e.event_id for e in sel.events if getattr(e, "fact", None) == fact.fact]
        entries.append(Entry(resource, made_by))
    return entries


def adherence_entries(sel: Selection) -> list[Entry]:
    entries = []
    for report in sel.state.adherence:
        resource = _base(sel, report, resource_id("Observation", report.adherence_id))
        del resource["effectiveDateTime"]
        resource["identifier"] = [v.identifier("adherence-id", report.adherence_id)]
        resource["meta"] = v.us_core("us-core-simple-observation")
        resource["category"] = [_category("therapy", "Therapy")]
        resource["code"] = {"text": "Medication adherence"}
        resource["effectivePeriod"] = {
            "start": fhir_date(report.period_start),
            "end": fhir_date(report.period_end),
        }
        request = request_ref_at(sel, report.order_id, report.effective_at)
        if request is not None:
            resource["focus"] = [request]
        resource["component"] = [
            {"code": {"text": "Doses taken"}, "valueInteger": report.doses_taken},
            {"code": {"text": "Doses missed"}, "valueInteger": report.doses_missed},
        ]
        entries.append(Entry(resource, [report.event_id]))
    return entries
