"""What an audit entry may say about an event: ids and categories, never clinical text.

The audit trail is read by auditors, who may not read psychotherapy notes, and is kept
long after the care it records. So an entry names what was touched (order, note, alert,
assessment ids; categories such as a note's kind or an alert's severity) and nothing a
clinician wrote: no note text, reasons, summaries, messages or corrected values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

SAFE_FIELDS: dict[str, tuple[str, ...]] = {
    "PatientRegistered": (),
    "CareTeamMemberAssigned": ("clinician_id", "role"),
    "CareTeamMemberRemoved": ("clinician_id",),
    "EmergencyAccessGranted": ("expires_at",),
    "ConsentRecorded": ("consent_id", "scope", "decision"),
    "AssessmentRecorded": ("assessment_id", "instrument"),
    "GoalSet": ("goal_id",),
    "GoalStatusChanged": ("goal_id", "status"),
    "MedicationPrescribed": ("order_id",),
    "DoseChanged": ("order_id",),
    "MedicationDiscontinued": ("order_id",),
    "SideEffectReported": ("side_effect_id", "order_id", "severity"),
    "AdherenceReported": ("adherence_id", "order_id"),
    "SafetyAlertRaised": ("alert_id", "rule_id", "kind", "severity"),
    "SafetyAlertResolved": ("alert_id", "resolution", "superseded_by"),
    "NoteAdded": ("note_id", "kind"),
    "EducationProvided": ("education_id", "order_id"),
    "FollowUpScheduled": ("follow_up_id", "due_at"),
    "FollowUpCompleted": ("follow_up_id",),
    "PlanReviewed": ("review_id",),
    "LabResultRecorded": ("lab_id", "test"),
    "ClinicalFactRecorded": ("fact",),
    "EntryCorrected": ("corrected_event_id",),
    "ConditionRecorded": ("condition_id",),  # not the code: a diagnosis is clinical
    "ConditionResolved": ("condition_id",),
    "SexAtBirthRecorded": (),
    "PregnancyStatusRecorded": (),
    "PharmacogenomicResultRecorded": ("result_id", "gene"),
}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def event_details(kind: str, event: Any) -> dict[str, Any]:
    """The event's id and version plus its whitelisted fields (unknown types: none)."""
    details: dict[str, Any] = {
        "event_id": getattr(event, "event_id", None),
        "version": getattr(event, "originator_version", None),
    }
    for name in SAFE_FIELDS.get(kind, ()):
        details[name] = _plain(getattr(event, name, None))
    if kind == "EntryCorrected":
        details["fields"] = sorted(getattr(event, "fields", {}) or {})
    return details


def access_details(row: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    details: dict[str, Any] = {"what": row["what"]}
    if row.get("reason"):
        details["reason"] = row["reason"]
    if extra:
        details.update(extra)
    return details
