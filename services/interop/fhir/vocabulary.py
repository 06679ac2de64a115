"""The code systems, identifier systems and extensions CareLog's FHIR export speaks.

Standard systems (LOINC, HL7 terminology) are used wherever a code is certain; CareLog's own
meanings (its event types, roles, alert kinds) travel in CareLog code systems under
``BASE`` (the ``.example`` top-level domain is reserved: these are names, not addresses),
so a receiver never mistakes one of ours for a standard code.
"""

from __future__ import annotations

from typing import Any

BASE = "https://carelog.example/fhir"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
COMMUNICATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
LIST_USE = "http://terminology.hl7.org/CodeSystem/list-example-use-codes"
LIST_EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

# CareLog's own code systems, identifier systems and extensions.
EVENT_TYPE = f"{BASE}/CodeSystem/event-type"
ROLE = f"{BASE}/CodeSystem/role"
ALERT_KIND = f"{BASE}/CodeSystem/alert-kind"
ALERT_RESOLUTION = f"{BASE}/CodeSystem/alert-resolution"
CONSENT_TOPIC = f"{BASE}/CodeSystem/consent-scope"
NOTE_MODALITY = f"{BASE}/CodeSystem/note-modality"
ACCESS_KIND = f"{BASE}/CodeSystem/access"
EXT_AS_OF = f"{BASE}/StructureDefinition/as-of"
EXT_EFFECTIVE_AT = f"{BASE}/StructureDefinition/effective-at"
EXT_EVENT_ID = f"{BASE}/StructureDefinition/event-id"
EXT_SUSPECT_REQUEST = f"{BASE}/StructureDefinition/suspect-request"
EXT_ACTION_TAKEN = f"{BASE}/StructureDefinition/action-taken"
EXT_ONSET = f"{BASE}/StructureDefinition/onset"
EXT_RULE_SOURCE = f"{BASE}/StructureDefinition/rule-source"
EXT_RULE_PACK_VERSION = f"{BASE}/StructureDefinition/rule-pack-version"


def id_system(name: str) -> str:
    """The identifier system for one kind of CareLog id (``order-id``, ``event-id`` ...)."""
    return f"{BASE}/id/{name}"


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(text: str | None = None, *codings: dict[str, Any]) -> dict[str, Any]:
    """A CodeableConcept: codings where we have them, and always the text people read."""
    result: dict[str, Any] = {}
    if codings:
        result["coding"] = list(codings)
    if text:
        result["text"] = text
    return result


def identifier(name: str, value: str) -> dict[str, Any]:
    return {"system": id_system(name), "value": value}


LOINC_ANSWER_DISPLAYS = {
    "LA6568-5": "Not at all",
    "LA6569-3": "Several days",
    "LA6570-1": "More than half the days",
    "LA6571-9": "Nearly every day",
}

ALERT_ACT_CODES = {
    "interaction": ("DRG", "Drug Interaction Alert"),
    "duplicate_therapy": ("DUPTHPY", "Duplicate Therapy Alert"),
    "max_dose": ("DOSEH", "High Dose Alert"),
}
"""HL7 ActCode detected-issue codes for the alert kinds that have an exact one; the others
(abrupt stop, monitoring due, suicide risk item ...) carry only CareLog's kind code."""

ALERT_SEVERITY = {
    "urgent": "high",
    "contraindicated": "high",
    "major": "high",
    "moderate": "moderate",
    "minor": "low",
    "info": "low",
}
"""Rule-pack severities onto DetectedIssue.severity (CLINICAL_REFERENCE.md)."""

ROLE_DISPLAY = {
    "psychiatrist": "Psychiatrist",
    "therapist": "Therapist",
    "pharmacist": "Pharmacist",
    "auditor": "Auditor",
    "admin": "Administrator",
    "emergency": "Emergency access (break the glass)",
}


def role_concept(role: str) -> dict[str, Any]:
    display = ROLE_DISPLAY.get(role, role)
    return concept(display, coding(ROLE, role, display))


# -- added for US Core 6.1.0 (issue 25) --------------------------------------------------------
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ADMINISTRATIVE_GENDER = "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
US_CORE = "http://hl7.org/fhir/us/core"
EXT_BIRTH_SEX = f"{US_CORE}/StructureDefinition/us-core-birthsex"


def us_core(profile: str) -> dict[str, Any]:
    """``meta`` declaring a US Core 6.1.0 profile (``us-core-patient`` ...)."""
    return {"profile": [f"{US_CORE}/StructureDefinition/{profile}|6.1.0"]}


ICD10_CM_DISPLAYS = {
    "F32.0": "Major depressive disorder, single episode, mild",
    "F32.1": "Major depressive disorder, single episode, moderate",
    "F32.2": "Major depressive disorder, single episode, severe without psychotic features",
    "F32.3": "Major depressive disorder, single episode, severe with psychotic features",
    "F32.9": "Major depressive disorder, single episode, unspecified",
    "F33.0": "Major depressive disorder, recurrent, mild",
    "F33.1": "Major depressive disorder, recurrent, moderate",
    "F33.2": "Major depressive disorder, recurrent severe without psychotic features",
    "F33.9": "Major depressive disorder, recurrent, unspecified",
    "F41.0": "Panic disorder [episodic paroxysmal anxiety]",
    "F41.1": "Generalized anxiety disorder",
    "F41.9": "Anxiety disorder, unspecified",
    "F31.9": "Bipolar disorder, unspecified",
    "F20.9": "Schizophrenia, unspecified",
    "F43.10": "Post-traumatic stress disorder, unspecified",
    "F90.9": "Attention-deficit hyperactivity disorder, unspecified type",
    "G40.909": ("Epilepsy, unspecified, not intractable, without status epilepticus"),
}
"""ICD-10-CM's own titles for the codes CareLog's demo and tests use (CDC/NCHS ICD-10-CM
tabular list); a code not listed carries the clinician's wording as its display."""
