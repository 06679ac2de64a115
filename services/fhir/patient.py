"""The patient, their allergies, the clinicians who appear in the record, and the care team.

An allergy a correction removed stays in the export as ``entered-in-error`` rather than
vanishing, so a receiver that imported the earlier export learns it was wrong.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from domain.plan import event_type
from services.fhir import vocabulary as v
from services.fhir.references import Entry, instant, moment, ref, resource_id
from services.fhir.selection import Selection


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
        "identifier": [
            {
                "use": "usual",
                "type": v.concept(
                    "Medical record number",
                    v.coding(v.IDENTIFIER_TYPE, "MR", "Medical record number"),
                ),
                "system": v.id_system("mrn"),
                "value": info["external_id"],
            },
            v.identifier("patient-id", sel.patient_id),
        ],
        "name": [{"text": info["name"]}],
        "birthDate": info["birth_date"],
    }
    entries = [Entry(patient, [registration.event_id])]
    entries.extend(_allergies(sel, registration))
    return entries


def _allergies(sel: Selection, registration: Any) -> list[Entry]:
    current = list(sel.state.patient.get("allergies", []))
    listed = list(registration.allergies)
    for correction in sel.about("corrected_event_id", registration.event_id):
        listed.extend(correction.fields.get("allergies", []))
    entries = []
    for name in dict.fromkeys([*current, *listed]):
        resource: dict[str, Any] = {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("AllergyIntolerance", sel.patient_id, name.lower()),
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
    return entries


def practitioner_entries(sel: Selection) -> list[Entry]:
    """One Practitioner per clinician who is on the care team or wrote a shown event."""
    team = sel.state.care_team
    actors = list(dict.fromkeys([*team, *(e.actor_id for e in sel.events)]))
    entries = []
    for actor_id in actors:
        resource: dict[str, Any] = {
            "resourceType": "Practitioner",
            "id": practitioner_id(actor_id),
            "identifier": [v.identifier("staff-id", actor_id)],
        }
        member = team.get(actor_id)
        if member and member.get("name"):
            resource["name"] = [{"text": member["name"]}]
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


def care_team_entries(sel: Selection) -> list[Entry]:
    participants: list[dict[str, Any]] = []
    for member in sel.state.care_team.values():
        period = {"start": instant(member["since"])}
        if member.get("until") is not None:
            period["end"] = instant(member["until"])
        participants.append(
            {
                "role": [v.role_concept(member["role"])],
                "member": practitioner_ref(member["clinician_id"]),
                "period": period,
            }
        )
    for grant in sel.state.emergency_access.values():
        period = {
            "start": instant(moment(grant["granted_at"])),
            "end": instant(moment(grant["expires_at"])),
        }
        participants.append(
            {
                "role": [v.role_concept("emergency"), v.role_concept(grant["role"])],
                "member": practitioner_ref(grant["clinician_id"]),
                "period": period,
            }
        )
    resource = {
        "resourceType": "CareTeam",
        "id": resource_id("CareTeam", sel.patient_id),
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
