"""Assessments as FHIR: PHQ-9 and GAD-7 as a ``QuestionnaireResponse`` plus ``Observation``s,
clinical assessments and plan reviews as ``ClinicalImpression``.

For a scored instrument the export holds the answers (LOINC item codes, answer list
LL358-3 codes LA6568-5 ... LA6571-9 with their ordinal values), a panel Observation (PHQ-9
44249-1, GAD-7 69737-5) whose components are the items, and a total-score Observation
(44261-6, 70274-6) with the severity band as its interpretation; both are ``derivedFrom``
the response. The score is the fold's (a corrected item score is re-scored there).
"""

from __future__ import annotations

from typing import Any

from domain.plan_records import Assessment, Review
from domain.scoring import ANSWER_CODES, ANSWER_TEXTS, INSTRUMENTS, Instrument
from services.interop.fhir import vocabulary as v
from services.interop.fhir.conditions import condition_refs, icd10_concept
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, instant, ref, ref_to, resource_id
from services.interop.fhir.selection import Selection

SURVEY = v.concept("Survey", v.coding(v.OBSERVATION_CATEGORY, "survey", "Survey"))


def questionnaire_url(spec: Instrument) -> str:
    """LOINC's canonical URL for the form (``http://loinc.org/q/<panel code>``)."""
    return f"{v.LOINC}/q/{spec.panel_loinc}"


def answer_coding(score: int) -> dict[str, Any]:
    coding = v.coding(v.LOINC, ANSWER_CODES[score], ANSWER_TEXTS[score])
    coding["extension"] = [{"url": v.ORDINAL_VALUE, "valueDecimal": score}]
    return coding


def assessment_entries(sel: Selection) -> list[Entry]:
    entries: list[Entry] = []
    for assessment in sel.state.assessments:
        spec = INSTRUMENTS.get(assessment.instrument)
        made_by = [assessment.event_id]
        if spec is None:
            entries.append(Entry(_impression(sel, assessment), made_by))
        else:
            entries.extend(Entry(r, made_by) for r in _scored(sel, assessment, spec))
    for review in sel.state.reviews:
        entries.append(Entry(_review(sel, review), [review.event_id]))
    return entries


def _scored(sel: Selection, a: Assessment, spec: Instrument) -> list[dict[str, Any]]:
    key = a.assessment_id
    corrected = bool(a.corrected)
    items = list(zip(spec.item_loincs, spec.item_texts, a.item_scores, strict=True))
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id("QuestionnaireResponse", key),
        "meta": v.us_core("us-core-questionnaireresponse"),
        "identifier": v.identifier("assessment-id", key),
        "questionnaire": questionnaire_url(spec),
        "status": "amended" if corrected else "completed",
        "subject": patient_ref(sel),
        "authored": instant(a.effective_at),
        "author": practitioner_ref(a.actor.id),
        "source": patient_ref(sel),
        "item": [
            *(
                {"linkId": code, "text": text, "answer": [{"valueCoding": answer_coding(score)}]}
                for code, text, score in items
            ),
            {
                "linkId": spec.total_loinc,
                "text": f"{spec.name} total score",
                "answer": [{"valueInteger": a.total}],
            },
        ],
    }
    common = {
        "meta": v.us_core("us-core-observation-screening-assessment"),
        "status": "corrected" if corrected else "final",
        "category": [SURVEY],
        "subject": patient_ref(sel),
        "effectiveDateTime": instant(a.effective_at),
        "issued": instant(a.recorded_at),
        "performer": [practitioner_ref(a.actor.id)],
        "derivedFrom": [ref_to(response)],
    }
    total = {
        "resourceType": "Observation",
        "id": resource_id("Observation", key, "total"),
        "identifier": [v.identifier("assessment-observation", f"{key}/total")],
        **common,
        "code": v.concept(
            f"{spec.name} total score",
            v.coding(v.LOINC, spec.total_loinc, f"{spec.name} total score"),
        ),
        "valueInteger": a.total,
        "interpretation": [{"text": a.severity}] if a.severity else [],
    }
    if not total["interpretation"]:
        del total["interpretation"]
    panel = {
        "resourceType": "Observation",
        "id": resource_id("Observation", key, "panel"),
        "identifier": [v.identifier("assessment-observation", f"{key}/panel")],
        **common,
        "code": v.concept(spec.name, v.coding(v.LOINC, spec.panel_loinc, spec.name)),
        "hasMember": [ref_to(total)],
        "component": [
            {
                "code": v.concept(text, v.coding(v.LOINC, code, text)),
                "valueCodeableConcept": v.concept(ANSWER_TEXTS[score], answer_coding(score)),
            }
            for code, text, score in items
        ],
    }
    return [response, panel, total]


def _impression(sel: Selection, a: Assessment) -> dict[str, Any]:
    resource = _clinical_impression(sel, a, "assessment-id", a.assessment_id, "Clinical assessment")
    if a.summary:
        resource["summary"] = a.summary
    if a.diagnoses:
        resource["finding"] = [
            {"itemCodeableConcept": icd10_concept(code, None), "itemReference": condition}
            for code, condition in zip(
                a.diagnoses, condition_refs(sel, list(a.diagnoses)), strict=True
            )
        ]
    return resource


def _review(sel: Selection, review: Review) -> dict[str, Any]:
    resource = _clinical_impression(
        sel, review, "review-id", review.review_id, "Plan review", description=review.outcome
    )
    if review.summary:
        resource["summary"] = review.summary
    return resource


def _clinical_impression(
    sel: Selection, made: Assessment | Review, id_kind: str, id_value: str, text: str, **more: Any
) -> dict[str, Any]:
    """A completed ClinicalImpression (an assessment's or a plan review's): ``more`` goes
    between its code and its subject."""
    return {
        "resourceType": "ClinicalImpression",
        "id": resource_id("ClinicalImpression", id_value),
        "identifier": [v.identifier(id_kind, id_value)],
        "status": "completed",
        "code": {"text": text},
        **more,
        "subject": patient_ref(sel),
        "effectiveDateTime": instant(made.effective_at),
        "date": instant(made.recorded_at),
        "assessor": practitioner_ref(made.actor.id),
    }


def response_ref(assessment_id: str) -> dict[str, Any]:
    return ref("QuestionnaireResponse", resource_id("QuestionnaireResponse", assessment_id))
