"""Measurements and reported facts as ``Observation``: lab results, clinical facts (smoking
status, metaboliser status ...) and medication adherence."""

from __future__ import annotations

from typing import Any

from services.fhir import vocabulary as v
from services.fhir.medications import request_ref_at
from services.fhir.patient import patient_ref, practitioner_ref
from services.fhir.references import Entry, fhir_date, instant, resource_id
from services.fhir.selection import Selection

VITAL_SIGNS = {"weight", "height", "bmi", "blood pressure", "heart rate", "waist circumference"}


def _category(code: str, display: str) -> dict[str, Any]:
    return v.concept(display, v.coding(v.OBSERVATION_CATEGORY, code, display))


def _base(sel: Selection, item: dict[str, Any], rid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "corrected" if item.get("corrected") else "final",
        "subject": patient_ref(sel),
        "effectiveDateTime": instant(item["effective_at"]),
        "issued": instant(item["recorded_at"]),
        "performer": [practitioner_ref(item["actor"]["id"])],
    }


def lab_entries(sel: Selection) -> list[Entry]:
    entries = []
    for lab in sel.state.labs:
        resource = _base(sel, lab, resource_id("Observation", lab["lab_id"]))
        resource["identifier"] = [v.identifier("lab-id", lab["lab_id"])]
        vital = lab["test"].lower() in VITAL_SIGNS
        resource["category"] = [
            _category("vital-signs", "Vital Signs")
            if vital
            else _category("laboratory", "Laboratory")
        ]
        resource["code"] = {"text": lab["test"]}
        if lab.get("value") is None:
            resource["dataAbsentReason"] = {"text": "No value recorded"}
        else:
            resource["valueQuantity"] = {"value": lab["value"], "unit": lab["unit"]}
        entries.append(Entry(resource, [lab["event_id"]]))
    return entries


def fact_entries(sel: Selection) -> list[Entry]:
    entries = []
    for fact in sel.state.facts.values():
        resource = _base(
            sel, fact, resource_id("Observation", sel.patient_id, "fact", fact["fact"])
        )
        if "smok" in fact["fact"].lower():
            resource["category"] = [_category("social-history", "Social History")]
        resource["code"] = {"text": fact["fact"]}
        resource["valueString"] = str(fact["value"])
        made_by = [e.event_id for e in sel.events if getattr(e, "fact", None) == fact["fact"]]
        entries.append(Entry(resource, made_by))
    return entries


def adherence_entries(sel: Selection) -> list[Entry]:
    entries = []
    for report in sel.state.adherence:
        resource = _base(sel, report, resource_id("Observation", report["adherence_id"]))
        del resource["effectiveDateTime"]
        resource["identifier"] = [v.identifier("adherence-id", report["adherence_id"])]
        resource["category"] = [_category("therapy", "Therapy")]
        resource["code"] = {"text": "Medication adherence"}
        resource["effectivePeriod"] = {
            "start": fhir_date(report["period_start"]),
            "end": fhir_date(report["period_end"]),
        }
        request = request_ref_at(sel, report["order_id"], report["effective_at"])
        if request is not None:
            resource["focus"] = [request]
        resource["component"] = [
            {"code": {"text": "Doses taken"}, "valueInteger": report["doses_taken"]},
            {"code": {"text": "Doses missed"}, "valueInteger": report["doses_missed"]},
        ]
        entries.append(Entry(resource, [report["event_id"]]))
    return entries
