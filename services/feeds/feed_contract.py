"""The feed contract: which patient events leave CareLog, as which CloudEvents, to whom.

Feed messages are contracts, not domain events on the wire: each carries a versioned type
(``carelog.medication.dose-changed.v1``), a fixed set of data fields, and per role only the
fields that role needs (minimum necessary). A field is added to a type freely; renaming or
removing one is a new type (``.v2``) published beside the old one.

What never leaves in any feed: note text; psychotherapy notes (not even their existence:
only their author needs to know of them); the patient's identity (name, MRN, birth date:
``subject`` is the opaque patient id); emergency access grants (an audit matter, reviewed in
the audit trail); consents, goals and education; corrections of notes. Auditors and admins
have no feed: the audit trail answers an auditor's questions, and an admin reads no
clinical data. README "Feeds" has the same table for people.

On Kafka a topic carries the role-independent contract (``to_cloudevent``); the broker's
topic permissions decide which roles' consumers read a topic, and the subscriber applies
``redact_for_role`` before handing an event over. Over HTTP the server redacts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from domain.patient_record import PatientRecord
from domain.plan import event_type

SPEC_VERSION = "1.0"
SOURCE = "urn:carelog:patient-records"
CONTENT_TYPE = "application/json"

PLAN_CHANGES = "carelog.plan-changes"
CLINICAL = "carelog.clinical"
NOTES = "carelog.notes"
TOPICS = (PLAN_CHANGES, CLINICAL, NOTES)

PSYCHIATRIST, THERAPIST, PHARMACIST = "psychiatrist", "therapist", "pharmacist"
FEED_ROLES = (PSYCHIATRIST, THERAPIST, PHARMACIST)
"""Roles with a feed. Auditors and admins have none (see the module docstring)."""

ENVELOPE_DATA = ("effective_at", "position", "actor")
"""Data fields every message carries for every role: when it happened clinically, its place
in the global log (the cursor), and who recorded it (staff id and role)."""

NOTE_ONLY_FIELDS = frozenset({"text", "modality"})
"""Fields only a note has: a correction touching one is a note correction and never leaves."""


@dataclass(frozen=True)
class FeedType:
    """One message type of the contract: the event it comes from, its versioned CloudEvents
    type, its Kafka topic, its data fields, and the fields each role's feed carries."""

    event: str
    type: str
    topic: str
    fields: tuple[str, ...]
    roles: Mapping[str, frozenset[str]]


def _roles(
    fields: tuple[str, ...], **per_role: tuple[str, ...] | None
) -> dict[str, frozenset[str]]:
    """Every named role sees ``fields`` unless given its own subset; ``None`` = not at all."""
    out: dict[str, frozenset[str]] = {}
    for role in FEED_ROLES:
        chosen = per_role.get(role, fields)
        if chosen is not None:
            unknown = set(chosen) - set(fields)
            if unknown:
                raise ValueError(f"{role} given fields outside the contract: {unknown}")
            out[role] = frozenset(chosen)
    return out


_PRESCRIBED = ("order_id", "drug", "dose", "frequency", "route", "indication", "instructions")
_DOSE = ("order_id", "dose", "frequency", "reason")
_STOPPED = ("order_id", "reason", "taper")
_ALERT = (
    "alert_id",
    "rule_id",
    "rule_pack_version",
    "kind",
    "severity",
    "message",
    "action",
    "source",
    "order_ids",
    "due_at",
    "test",
    "override_reason",
)
_RESOLVED = ("alert_id", "resolution", "reason", "action", "result", "superseded_by")
_ASSIGNED = ("clinician_id", "clinician_name", "role")
_REMOVED = ("clinician_id",)
_CORRECTED = ("corrected_event_id", "corrected_fields")
_ASSESSMENT = (
    "assessment_id",
    "instrument",
    "item_scores",
    "total",
    "severity",
    "diagnoses",
    "summary",
)
_SIDE_EFFECT = ("side_effect_id", "order_id", "effect", "severity", "onset", "action_taken")
_ADHERENCE = (
    "adherence_id",
    "order_id",
    "doses_taken",
    "doses_missed",
    "period_start",
    "period_end",
)
_FOLLOW_UP = ("follow_up_id", "due_at", "purpose")
_FOLLOW_UP_DONE = ("follow_up_id", "outcome")
_REVIEW = ("review_id", "outcome", "summary")
_LAB = ("lab_id", "test", "value", "unit")
_FACT = ("fact", "value")
_NOTE = ("note_id", "author", "kind", "modality")

CONTRACT: tuple[FeedType, ...] = (
    # -- carelog.plan-changes: what is prescribed, what the rules flagged, who is on the team
    FeedType(
        "MedicationPrescribed",
        "carelog.medication.prescribed.v1",
        PLAN_CHANGES,
        _PRESCRIBED,
        _roles(_PRESCRIBED, therapist=("order_id", "drug", "dose", "frequency")),
    ),
    FeedType(
        "DoseChanged",
        "carelog.medication.dose-changed.v1",
        PLAN_CHANGES,
        _DOSE,
        _roles(_DOSE, therapist=("order_id", "dose", "frequency")),
    ),
    FeedType(
        "MedicationDiscontinued",
        "carelog.medication.discontinued.v1",
        PLAN_CHANGES,
        _STOPPED,
        _roles(_STOPPED, therapist=("order_id", "taper")),
    ),
    FeedType(
        "SafetyAlertRaised",
        "carelog.safety-alert.raised.v1",
        PLAN_CHANGES,
        _ALERT,
        _roles(_ALERT, therapist=("alert_id", "kind", "severity", "message", "due_at")),
    ),
    FeedType(
        "SafetyAlertResolved",
        "carelog.safety-alert.resolved.v1",
        PLAN_CHANGES,
        _RESOLVED,
        _roles(_RESOLVED, therapist=("alert_id", "resolution")),
    ),
    FeedType(
        "CareTeamMemberAssigned",
        "carelog.care-team.member-assigned.v1",
        PLAN_CHANGES,
        _ASSIGNED,
        _roles(_ASSIGNED),
    ),
    FeedType(
        "CareTeamMemberRemoved",
        "carelog.care-team.member-removed.v1",
        PLAN_CHANGES,
        _REMOVED,
        _roles(_REMOVED),
    ),
    FeedType(
        "EntryCorrected", "carelog.entry.corrected.v1", PLAN_CHANGES, _CORRECTED, _roles(_CORRECTED)
    ),
    # -- carelog.clinical: how the patient is doing
    FeedType(
        "AssessmentRecorded",
        "carelog.assessment.recorded.v1",
        CLINICAL,
        _ASSESSMENT,
        _roles(_ASSESSMENT, pharmacist=("assessment_id", "instrument", "total", "severity")),
    ),
    FeedType(
        "SideEffectReported",
        "carelog.side-effect.reported.v1",
        CLINICAL,
        _SIDE_EFFECT,
        _roles(_SIDE_EFFECT),
    ),
    FeedType(
        "AdherenceReported",
        "carelog.adherence.reported.v1",
        CLINICAL,
        _ADHERENCE,
        _roles(_ADHERENCE),
    ),
    FeedType(
        "FollowUpScheduled",
        "carelog.follow-up.scheduled.v1",
        CLINICAL,
        _FOLLOW_UP,
        _roles(_FOLLOW_UP),
    ),
    FeedType(
        "FollowUpCompleted",
        "carelog.follow-up.completed.v1",
        CLINICAL,
        _FOLLOW_UP_DONE,
        _roles(_FOLLOW_UP_DONE),
    ),
    FeedType(
        "PlanReviewed",
        "carelog.plan.reviewed.v1",
        CLINICAL,
        _REVIEW,
        _roles(_REVIEW, therapist=("review_id", "outcome")),
    ),
    FeedType(
        "LabResultRecorded",
        "carelog.lab-result.recorded.v1",
        CLINICAL,
        _LAB,
        _roles(_LAB, therapist=None),
    ),
    FeedType(
        "ClinicalFactRecorded",
        "carelog.clinical-fact.recorded.v1",
        CLINICAL,
        _FACT,
        _roles(_FACT, therapist=None),
    ),
    # -- carelog.notes: that a progress note exists (never its text; never psychotherapy)
    FeedType("NoteAdded", "carelog.note.added.v1", NOTES, _NOTE, _roles(_NOTE, pharmacist=None)),
)

BY_EVENT: dict[str, FeedType] = {f.event: f for f in CONTRACT}
BY_TYPE: dict[str, FeedType] = {f.type: f for f in CONTRACT}

FEED_TYPES: dict[str, str] = {f.event: f.type for f in CONTRACT}
"""Event type (``DoseChanged``) -> CloudEvents type (``carelog.medication.dose-changed.v1``)."""

TOPIC_OF: dict[str, str] = {f.type: f.topic for f in CONTRACT}
"""CloudEvents type -> Kafka topic."""

STORED_TOPICS: dict[str, str] = {f.event: getattr(PatientRecord, f.event).TOPIC for f in CONTRACT}
"""Event type -> the topic stored in the log, so readers can select only feed events."""

NEVER_LEAVES: dict[str, str] = {
    "PatientRegistered": "the patient's identity stays in CareLog; subject is the opaque id",
    "EmergencyAccessGranted": "an audit matter, reviewed in the audit trail",
    "ConsentRecorded": "consent decisions and their notes are read in CareLog",
    "GoalSet": "treatment goals are read in CareLog",
    "GoalStatusChanged": "treatment goals are read in CareLog",
    "EducationProvided": "not needed by another team",
    "ConditionRecorded": "diagnoses are read in CareLog; the alerts they raise do leave",
    "ConditionResolved": "diagnoses are read in CareLog; the alerts they close do leave",
    "SexAtBirthRecorded": "part of the patient's identity, which stays in CareLog",
    "PregnancyStatusRecorded": "pregnancy is read in CareLog; the alerts it raises do leave",
    "PharmacogenomicResultRecorded": (
        "genetic results are read in CareLog (and exported as FHIR); the alerts they raise do leave"
    ),
}
"""Patient events with no feed type, and why (the index and the library's unused
``Created`` never leave either)."""


def role_event_types(role: str) -> frozenset[str]:
    """The event types (``DoseChanged``, ...) whose messages this role's feed carries."""
    return frozenset(f.event for f in CONTRACT if str(role) in f.roles)


def role_topics(role: str) -> tuple[str, ...]:
    """The Kafka topics a role's subscriber reads (in ``TOPICS`` order); empty: no feed."""
    used = {f.topic for f in CONTRACT if str(role) in f.roles}
    return tuple(t for t in TOPICS if t in used)


def to_cloudevent(event: Any, position: int) -> dict[str, Any] | None:
    """The role-independent CloudEvents 1.0 message for a patient event at ``position`` in
    the global log, or None when the event never leaves CareLog."""
    feed_type = BY_EVENT.get(event_type(event))
    if feed_type is None:
        return None
    extract = _EXTRACTORS.get(feed_type.event, _attributes)
    data = extract(event, feed_type.fields)
    if data is None:
        return None
    data.update(
        effective_at=_json(event.effective_at),
        position=position,
        actor={"id": event.actor_id, "role": event.actor_role},
    )
    return {
        "specversion": SPEC_VERSION,
        "id": str(event.event_id),
        "source": SOURCE,
        "type": feed_type.type,
        "subject": str(event.originator_id),
        "time": _json(event.timestamp),
        "datacontenttype": CONTENT_TYPE,
        "data": data,
    }


def redact_for_role(cloudevent: Mapping[str, Any], role: str) -> dict[str, Any] | None:
    """The message as ``role``'s feed carries it, or None when that feed does not carry its
    type (unknown types included: a newer contract never leaks through an older reader)."""
    feed_type = BY_TYPE.get(str(cloudevent.get("type")))
    if feed_type is None:
        return None
    allowed = feed_type.roles.get(str(role))
    if allowed is None:
        return None
    data = cloudevent.get("data") or {}
    kept = {k: v for k, v in data.items() if k in allowed or k in ENVELOPE_DATA}
    return {**cloudevent, "data": kept}


# -- extracting the contract's fields from an event ------------------------------------------
Extractor = Callable[[Any, tuple[str, ...]], "dict[str, Any] | None"]


def _attributes(event: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    state = vars(event)
    return {name: _json(state.get(name)) for name in fields}


def _prescribed(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    data = _attributes(event, fields)
    drug = event.drug or {}
    data["drug"] = {k: _json(drug.get(k)) for k in ("name", "generic", "classes", "rxnorm")}
    return data


def _note(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if event.kind != "progress":  # psychotherapy notes: not even their existence leaves
        return None
    return {
        "note_id": event.note_id,
        "author": event.actor_id,
        "kind": event.kind,
        "modality": event.modality,
    }


def _corrected(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    names = sorted(event.fields)
    if NOTE_ONLY_FIELDS & set(names):
        return None
    # names only: the values follow the corrected entry's own redaction, which a message
    # about a correction cannot know; a consumer holding that entry refetches it
    return {"corrected_event_id": event.corrected_event_id, "corrected_fields": names}


_EXTRACTORS: dict[str, Extractor] = {
    "MedicationPrescribed": _prescribed,
    "NoteAdded": _note,
    "EntryCorrected": _corrected,
}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json(value: Any) -> Any:
    """A JSON-ready copy: times in UTC with ``Z``, dates as ISO dates, ids as strings."""
    kind = type(value)
    if kind in _PLAIN:  # most values: the relay converts tens of thousands a second
        return value
    convert = _CONVERT.get(kind)  # the exact types events hold, without an isinstance chain
    if convert is not None:
        return convert(value)
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return value


def _time(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        k if type(k) is str else str(k): v if type(v) in _PLAIN else _json(v)
        for k, v in value.items()
    }


def _sequence(value: Any) -> list[Any]:
    return [v if type(v) in _PLAIN else _json(v) for v in value]


_CONVERT: dict[type, Any] = {
    datetime: _time,
    date: date.isoformat,
    UUID: str,
    dict: _mapping,
    list: _sequence,
    tuple: _sequence,
}
