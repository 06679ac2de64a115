"""The patient, their allergies, the clinicians who appear in the record, and the care team.

An allergy a correction removed stays in the export as ``entered-in-error`` rather than
vanishing, so a receiver that imported the earlier export learns it was wrong.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from domain.plan import event_type
from services.interop.fhir import vocabulary as v
from services.interop.fhir.references import Entry, instant, moment, ref, resource_id
from services.interop.fhir.selection import Selection

GENDER_FROM_SEX_AT_BIRTH = {"female": "female", "male": "male", "intersex": "other"}
"""Administrative gender, which CareLog does not ask, from the sex at birth it records;
``unknown`` when that is not recorded (or recorded as unknown)."""


SEX_AT_BIRTH_VALUES = {
    "female": (v.ADMINISTRATIVE_GENDER, "F", "Female"),
    "male": (v.ADMINISTRATIVE_GENDER, "M", "Male"),
    "unknown": (v.NULL_FLAVOR, "UNK", "Unknown"),
}
"""Sex at birth as the codes of LOINC 76689-9's answers; intersex has none and goes as text."""

BIRTH_SEX_CODES = {"female": "F", "male": "M", "unknown": "UNK", "intersex": "UNK"}
"""The us-core-birthsex code for each sex at birth CareLog records. US Core 6.1 binds the
extension (required) to M, F, ASKU and UNK only: intersex, which has no code there, is
``UNK`` (a male/female value that applies is not known), so a receiver never reads it as
"not recorded"; the sex-at-birth Observation keeps the word. ASKU (asked, declined) is never
sent: CareLog records no refusal to answer."""


def sex_at_birth_extension(sex: str | None) -> list[dict[str, Any]]:
    """The us-core-birthsex extension for the Patient (none when not recorded)."""
    if sex not in BIRTH_SEX_CODES:
        return []
    return [{"url": v.EXT_BIRTH_SEX, "valueCode": BIRTH_SEX_CODES[sex]}]


NAME_PREFIXES = frozenset(
    {"dr", "dr.", "prof", "prof.", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "mx"}
)
UNKNOWN_NAME = {
    "extension": [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "unknown",
        }
    ]
}
"""A name CareLog does not hold, said so (US Core wants ``family`` or a reason it is absent)."""


def human_name(text: str) -> dict[str, Any]:
    """A HumanName from the one name CareLog records: a leading title as ``prefix``, the last
    word as ``family``, the words between as ``given``, and the name as written as ``text``.
    (CareLog records names as one string; this split is the usual Western reading, and
    ``text`` keeps the name exactly as given.)"""
    words = text.split()
    name: dict[str, Any] = {"text": text}
    prefixes = []
    while len(words) > 1 and words[0].lower() in NAME_PREFIXES:
        prefixes.append(words.pop(0))
    if prefixes:
        name["prefix"] = prefixes
    if words:
        name["family"] = words[-1]
    if len(words) > 1:
        name["given"] = words[:-1]
    return name


ORGANIZATION_ID = resource_id("Organization", "carelog")


def organization_ref() -> dict[str, Any]:
    return ref("Organization", ORGANIZATION_ID)


def organization_entries(sel: Selection) -> list[Entry]:
    """The clinic that keeps the record: Provenance's ``onBehalfOf`` for every author."""
    resource = {
        "resourceType": "Organization",
        "id": ORGANIZATION_ID,
        "meta": v.us_core("us-core-organization"),
        "identifier": [v.identifier("organization", "carelog")],
        "active": True,
        "name": "CareLog clinic",
    }
    return [Entry(resource, [])]


def patient_ref(sel: Selection) -> dict[str, Any]:
    return ref("Patient", sel.patient_id)


@lru_cache(maxsize=4096)
def practitioner_id(actor_id: str) -> str:
    return resource_id("Practitioner", actor_id)


def practitioner_ref(actor_id: str) -> dict[str, Any]:
    return ref("Practitioner", practitioner_id(actor_id))


def patient_entries(sel: Selection) -> list[Entry]:
    registration = next(e for e in sel.events if event_type(e) == "PatientRegistered")
    info = sel.state.patient
    patient = {
        "resourceType": "Patient",
        "id": sel.patient_id,
        "meta": v.us_core("us-core-patient"),
        "identifier": [
            {
                "use": "usual",
                "type": v.concept(
                    "Medical record number",
                    v.coding(v.IDENTIFIER_TYPE, "MR", "Medical record number"),
                ),
                "system": v.id_system("mrn"),
                "value": info.external_id,
            },
            v.identifier("patient-id", sel.patient_id),
        ],
        "name": [human_name(info.name)],
        "gender": GENDER_FROM_SEX_AT_BIRTH.get(info.sex_at_birth or "", "unknown"),
        "birthDate": info.birth_date,
    }
    birth_sex = sex_at_birth_extension(info.sex_at_birth)
    if birth_sex:
        patient["extension"] = birth_sex
    made_by = [registration.event_id]
    made_by += [e.event_id for e in sel.events if event_type(e) == "SexAtBirthRecorded"]
    entries = [Entry(patient, made_by)]
    entries.extend(_allergies(sel, registration))
    return entries


def _allergies(sel: Selection, registration: Any) -> list[Entry]:
    current = list(sel.state.patient.allergies)
    listed = list(registration.allergies)
    for correction in sel.about("corrected_event_id", registration.event_id):
        listed.extend(correction.fields.get("allergies", []))
    entries = []
    for name in dict.fromkeys([*current, *listed]):
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("AllergyIntolerance", sel.patient_id, name.lower()),
            "meta": v.us_core("us-core-allergyintolerance"),
            "code": {"text": name},
            "patient": patient_ref(sel),
            "recordedDate": instant(registration.timestamp),
            "recorder": practitioner_ref(registration.actor_id),
        }
        if name in current:
            resource["clinicalStatus"] = v.concept(
                "Active", v.coding(v.ALLERGY_CLINICAL, "active", "Active")
            )
        else:  # listed once, then corrected away
            resource["verificationStatus"] = v.concept(
                "Entered in error",
                v.coding(v.ALLERGY_VERIFICATION, "entered-in-error", "Entered in Error"),
            )
        entries.append(Entry(resource, [registration.event_id]))
    if not entries and getattr(registration, "allergies_recorded", None):
        entries.append(_no_known_allergies(sel, registration))
    return entries


NO_KNOWN_ALLERGY = ("716186003", "No known allergy")
"""SNOMED CT: asked, and none known (distinct from allergies never recorded: no resource)."""


def _no_known_allergies(sel: Selection, registration: Any) -> Entry:
    code, display = NO_KNOWN_ALLERGY
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": resource_id("AllergyIntolerance", sel.patient_id, "no-known-allergy"),
        "meta": v.us_core("us-core-allergyintolerance"),
        "clinicalStatus": v.concept("Active", v.coding(v.ALLERGY_CLINICAL, "active", "Active")),
        "verificationStatus": v.concept(
            "Confirmed", v.coding(v.ALLERGY_VERIFICATION, "confirmed", "Confirmed")
        ),
        "code": v.concept("No known allergies", v.coding(v.SNOMED, code, display)),
        "patient": patient_ref(sel),
        "recordedDate": instant(registration.timestamp),
        "recorder": practitioner_ref(registration.actor_id),
    }
    return Entry(resource, [registration.event_id])


def practitioner_entries(sel: Selection) -> list[Entry]:
    """One Practitioner per clinician who is on the care team or wrote a shown event."""
    team = sel.state.care_team
    actors = list(dict.fromkeys([*team, *(e.actor_id for e in sel.events)]))
    entries = []
    for actor_id in actors:
        resource: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": practitioner_id(actor_id),
            "meta": v.us_core("us-core-practitioner"),
            "identifier": [v.identifier("staff-id", actor_id)],
        }
        member = team.get(actor_id)
        if member and member.name:
            resource["name"] = [human_name(member.name)]
        else:  # a clinician the record names by id only (emergency access, a past author)
            resource["name"] = [{"_family": UNKNOWN_NAME}]
        made_by = [
            e.event_id for e in sel.about("clinician_id", actor_id, "CareTeamMemberAssigned")
        ]
        made_by += [
            e.event_id
            for e in sel.events
            if event_type(e) == "EmergencyAccessGranted" and e.actor_id == actor_id
        ]
        if not made_by:  # off the team (e.g. CareLog's system actor): the first event they wrote
            made_by = [e.event_id for e in sel.events if e.actor_id == actor_id][:1]
        entries.append(Entry(resource, made_by))
    return entries


def _role_name(role: str) -> str:
    return v.ROLE_DISPLAY.get(role, role)


def care_team_entries(sel: Selection) -> list[Entry]:
    participants: list[dict[str, Any]] = []
    for member in sel.state.care_team.values():
        period = {"start": instant(member.since)}
        if member.until is not None:
            period["end"] = instant(member.until)
        participants.append(
            {
                "role": [v.role_concept(member.role)],
                "member": practitioner_ref(member.clinician_id),
                "period": period,
            }
        )
    for grant in sel.state.emergency_access.values():
        period = {
            "start": instant(moment(grant.granted_at)),
            "end": instant(moment(grant.expires_at)),
        }
        participants.append(
            {
                # US Core allows one role: break-the-glass access, naming the role it was in
                "role": [
                    v.concept(
                        f"{v.ROLE_DISPLAY['emergency']}: {_role_name(grant.role)}",
                        v.coding(v.ROLE, "emergency", v.ROLE_DISPLAY["emergency"]),
                    )
                ],
                "member": practitioner_ref(grant.clinician_id),
                "period": period,
            }
        )
    if not participants:  # in effect before anyone joined: no team to show (US Core: 1..*)
        return []
    resource = {
        "resourceType": "CareTeam",
        "id": resource_id("CareTeam", sel.patient_id),
        "meta": v.us_core("us-core-careteam"),
        "status": "active",
        "name": "CareLog care team",
        "subject": patient_ref(sel),
        "participant": participants,
    }
    made_by = [
        e.event_id
        for e in sel.events
        if event_type(e)
        in {"CareTeamMemberAssigned", "CareTeamMemberRemoved", "EmergencyAccessGranted"}
    ]
    return [Entry(resource, made_by)]
