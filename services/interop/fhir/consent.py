"""The patient's consent decisions as ``Consent``: one per decision, the latest in each scope
in force and the earlier ones ``inactive``.

A refusal or a withdrawal in force is an ``active`` Consent whose provision ``deny``s: a
consent engine enforces active consents, so an opt-out exported as ``rejected`` or
``inactive`` would be skipped and the patient's "no" lost.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from domain.plan_records import Consent
from services.interop.fhir import vocabulary as v
from services.interop.fhir.patient import patient_ref
from services.interop.fhir.references import Entry, instant, resource_id
from services.interop.fhir.selection import Selection

STATUS = {"granted": "active", "refused": "active", "withdrawn": "active"}
"""The status of the decision in force in its scope (what it decides is in ``provision``)."""
FHIR_SCOPE = {
    "treatment": ("treatment", "Treatment"),
    "medication": ("treatment", "Treatment"),
    "information sharing": ("patient-privacy", "Privacy Consent"),
}
PATIENT_CONSENT = "59284-0"  # LOINC: patient consent (the R4 Consent category example)


def consent_entries(sel: Selection) -> list[Entry]:
    by_scope: dict[str, list[Consent]] = defaultdict(list)
    for consent in sel.state.consents:
        by_scope[consent.scope].append(consent)
    entries = []
    for decisions in by_scope.values():
        decisions.sort(key=lambda c: (c.effective_at, c.recorded_at))
        for i, consent in enumerate(decisions):
            later = decisions[i + 1] if i + 1 < len(decisions) else None
            resource = _consent(sel, consent, superseded=later is not None)
            made_by = [consent.event_id] + ([later.event_id] if later else [])
            entries.append(Entry(resource, made_by))
    return entries


def _consent(sel: Selection, consent: Consent, superseded: bool) -> dict[str, Any]:
    scope, decision = consent.scope, consent.decision
    code, display = FHIR_SCOPE.get(scope, ("treatment", "Treatment"))
    permit = decision == "granted"
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": resource_id("Consent", consent.consent_id),
        "identifier": [v.identifier("consent-id", consent.consent_id)],
        "status": "inactive" if superseded else STATUS.get(decision, "inactive"),
        "scope": v.concept(display, v.coding(v.CONSENT_SCOPE, code, display)),
        "category": [
            v.concept(
                f"Consent: {scope}",
                v.coding(v.LOINC, PATIENT_CONSENT),
                v.coding(v.CONSENT_TOPIC, scope, scope),
            )
        ],
        "patient": patient_ref(sel),
        "dateTime": instant(consent.effective_at),
        "performer": [patient_ref(sel)],
        "policyRule": v.concept(
            "Opt in" if permit else "Opt out", v.coding(v.ACT_CODE, "OPTIN" if permit else "OPTOUT")
        ),
        "provision": {"type": "permit" if permit else "deny"},
    }
    if consent.note:
        resource["extension"] = [
            {"url": f"{v.BASE}/StructureDefinition/consent-note", "valueString": consent.note}
        ]
    return resource
