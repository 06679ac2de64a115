"""The feed contract: which patient events leave CareLog, as which CloudEvents, to whom.

Feed messages are contracts, not domain events on the wire: each carries a versioned type
(``carelog.medication.dose-changed.v1``), a fixed set of data fields, and per role only the
fields that role needs (minimum necessary). A field is added to a type freely; renaming or
removing one is a new type (``.v2``) published beside the old one.

What never leaves in any feed: note text; psychotherapy notes (not even their existence:
only their author needs to know of them); the patient's identity (name, MRN, birth date:
``subject`` is the opaque patient id); emergency access grants (an audit matter, reviewed in
the audit trail); consents, goals and education; corrections of notes
(``services/feeds/kept_in.py`` says why for each event type). Auditors and admins
have no feed: the audit trail answers an auditor's questions, and an admin reads no
clinical data. README "Feeds" has the same table for people.

On Kafka a topic carries the role-independent contract (``feed_message.to_cloudevent``);
the broker's topic permissions decide which roles' consumers read a topic, and the subscriber
applies ``feed_message.redact_for_role`` before handing an event over. Over HTTP the server redacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.patient_record import PatientRecord

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


def role_event_types(role: str) -> frozenset[str]:
    """The event types (``DoseChanged``, ...) whose messages this role's feed carries."""
    return frozenset(f.event for f in CONTRACT if str(role) in f.roles)


def role_topics(role: str) -> tuple[str, ...]:
    """The Kafka topics a role's subscriber reads (in ``TOPICS`` order); empty: no feed."""
    used = {f.topic for f in CONTRACT if str(role) in f.roles}
    return tuple(t for t in TOPICS if t in used)
