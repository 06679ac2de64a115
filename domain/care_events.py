"""The events of care: assessments and goals, medication orders and what is reported about
them, safety alerts, and the entries of everyday care (notes, education, follow-ups,
reviews, lab results, clinical facts).

The base ``Event`` and the events about the patient and the care team are in
``domain/record_events.py``; ``domain/patient_events.py`` names them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.record_events import Event


class AssessmentRecorded(Event):
    """A scored (PHQ-9, GAD-7) or clinical assessment, with diagnoses."""

    TOPIC = "carelog.AssessmentRecorded"
    assessment_id: str
    instrument: str
    item_scores: list[int]
    total: int | None
    severity: str | None
    diagnoses: list[str]
    summary: str


class GoalSet(Event):
    """A treatment goal with a target and a due date."""

    TOPIC = "carelog.GoalSet"
    goal_id: str
    description: str
    target: str
    due_date: str | None


class GoalStatusChanged(Event):
    """A goal was met, abandoned or revised."""

    TOPIC = "carelog.GoalStatusChanged"
    goal_id: str
    status: str
    note: str


class MedicationPrescribed(Event):
    """A new medication order: drug, dose, frequency, route, indication."""

    TOPIC = "carelog.MedicationPrescribed"
    order_id: str
    drug: dict[str, Any]
    dose: dict[str, Any]
    frequency: str
    route: str
    indication: str
    instructions: str
    # Added later (default None, so older logs replay): the order continues therapy
    # established elsewhere or earlier, {"since": "YYYY-MM-DD", "source": text}.
    continuing: dict[str, Any] | None = None


class DoseChanged(Event):
    """The dose or frequency of an active order changed (the old dose is in the log)."""

    TOPIC = "carelog.DoseChanged"
    order_id: str
    dose: dict[str, Any]
    frequency: str
    reason: str


class MedicationDiscontinued(Event):
    """An active order was stopped, with the taper schedule when one was given."""

    TOPIC = "carelog.MedicationDiscontinued"
    order_id: str
    reason: str
    taper: str | None


class SideEffectReported(Event):
    """A side effect seen or reported, optionally tied to an order."""

    TOPIC = "carelog.SideEffectReported"
    side_effect_id: str
    order_id: str | None
    effect: str
    severity: str
    onset: str | None
    action_taken: str


class AdherenceReported(Event):
    """Doses taken and missed for an order over a period."""

    TOPIC = "carelog.AdherenceReported"
    adherence_id: str
    order_id: str
    doses_taken: int
    doses_missed: int
    period_start: str
    period_end: str


class SafetyAlertRaised(Event):
    """A rule of the safety pack fired on the plan after a write."""

    TOPIC = "carelog.SafetyAlertRaised"
    alert_id: str
    key: str
    rule_id: str
    rule_pack_version: str
    kind: str
    severity: str
    message: str
    action: str
    source: str
    order_ids: list[str]
    due_at: datetime | None
    test: str | None
    override_reason: str | None


class SafetyAlertResolved(Event):
    """An alert was acknowledged, overridden with a reason, or the plan was changed."""

    TOPIC = "carelog.SafetyAlertResolved"
    alert_id: str
    resolution: str
    reason: str
    # Added later, with defaults so that older logs replay: the structured action
    # (a suicide-risk alert's risk assessment and its result), and the alert that
    # superseded this one when CareLog re-raised it with current figures.
    action: str | None = None
    result: str | None = None
    superseded_by: str | None = None


class NoteAdded(Event):
    """A progress note (care team) or psychotherapy note (its author alone)."""

    TOPIC = "carelog.NoteAdded"
    note_id: str
    kind: str
    modality: str
    text: str


class EducationProvided(Event):
    """The patient was taught about a topic or a medication."""

    TOPIC = "carelog.EducationProvided"
    education_id: str
    topic: str
    order_id: str | None
    materials: str


class FollowUpScheduled(Event):
    """A check-in is due by a date, for a purpose."""

    TOPIC = "carelog.FollowUpScheduled"
    follow_up_id: str
    due_at: datetime
    purpose: str


class FollowUpCompleted(Event):
    """A scheduled check-in took place, with its outcome."""

    TOPIC = "carelog.FollowUpCompleted"
    follow_up_id: str
    outcome: str


class PlanReviewed(Event):
    """A review of the plan, e.g. a pharmacist's medication review."""

    TOPIC = "carelog.PlanReviewed"
    review_id: str
    outcome: str
    summary: str


class LabResultRecorded(Event):
    """A lab value or measurement (lithium level, ANC, weight ...) for monitoring."""

    TOPIC = "carelog.LabResultRecorded"
    lab_id: str
    test: str
    value: float | None
    unit: str


class ClinicalFactRecorded(Event):
    """A fact the safety rules read: smoking status, weight, metaboliser status ..."""

    TOPIC = "carelog.ClinicalFactRecorded"
    fact: str
    value: str
