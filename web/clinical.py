"""The clinical write endpoints, one blueprint per resource as the contract groups them:
consents, assessments, medications, side effects, notes, follow-ups, alerts, corrections,
and the extra entries (adherence, education, labs, facts, goals, reviews)."""

from __future__ import annotations

from typing import Any

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.schemas.correction_in import CorrectionIn, FactIn
from web.schemas.entry_in import (
    AssessmentIn,
    CompletionIn,
    EducationIn,
    FollowUpIn,
    GoalIn,
    GoalStatusIn,
    LabResultIn,
    NoteIn,
    ResolutionIn,
    ReviewIn,
)
from web.schemas.medication_in import (
    AdherenceIn,
    DiscontinuationIn,
    DoseChangeIn,
    MedicationIn,
    SideEffectIn,
)
from web.schemas.patient_in import ConsentIn
from web.write_routes import Write, add_writes

PREFIX = "/api/v1/patients"


def _blueprint(name: str, description: str, *writes: Write) -> CareLogBlueprint:
    blp = CareLogBlueprint(name, __name__, url_prefix=PREFIX, description=description)
    return add_writes(blp, *writes)


def _correction(data: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return {
        "event_id": data["event_id"],
        "fields": data["corrected_fields"],
        "reason": data["reason"],
    }


def note_kind(body: dict[str, Any]) -> str:
    """The permission a note needs: a psychotherapy note's own (so a refusal names it)."""
    return "psychotherapy_note" if body.get("kind") == "psychotherapy" else "progress_note"


consents = _blueprint(
    "consents",
    "The patient's consent decisions.",
    Write(c.RecordConsent, "/consents", ConsentIn, "consent", "Record a consent decision."),
)
assessments = _blueprint(
    "assessments",
    "PHQ-9, GAD-7 and clinical assessments, scored here.",
    Write(
        c.RecordAssessment,
        "/assessments",
        AssessmentIn,
        "assessment",
        "Record an assessment; returns its total, severity band and any alerts.",
    ),
)
medications = _blueprint(
    "medications",
    "Prescriptions, dose changes and discontinuations.",
    Write(
        c.Prescribe,
        "/medications",
        MedicationIn,
        "medication",
        "Prescribe; contraindicated combinations need override_reason.",
    ),
    Write(
        c.ChangeDose,
        "/medications/<string:order_id>/dose-changes",
        DoseChangeIn,
        "medication",
        "Change the dose of an active order (schedules a check-in).",
    ),
    Write(
        c.Discontinue,
        "/medications/<string:order_id>/discontinuation",
        DiscontinuationIn,
        "medication",
        "Stop an active order, with a taper where needed.",
    ),
    Write(
        c.RecordAdherence,
        "/adherence",
        AdherenceIn,
        "adherence",
        "Report doses taken and missed over a period.",
    ),
)
side_effects = _blueprint(
    "side_effects",
    "Side effects seen or reported.",
    Write(
        c.ReportSideEffect, "/side-effects", SideEffectIn, "side_effect", "Report a side effect."
    ),
)
notes = _blueprint(
    "notes",
    "Progress notes and psychotherapy notes (author-only text).",
    Write(c.AddNote, "/notes", NoteIn, note_kind, "Add a progress or psychotherapy note."),
)
follow_ups = _blueprint(
    "follow_ups",
    "Check-ins that fall due.",
    Write(c.ScheduleFollowUp, "/follow-ups", FollowUpIn, "follow_up", "Schedule a follow-up."),
    Write(
        c.CompleteFollowUp,
        "/follow-ups/<string:follow_up_id>/completion",
        CompletionIn,
        "follow_up",
        "Complete a follow-up.",
    ),
)
alerts = _blueprint(
    "alerts",
    "Safety alerts and their review.",
    Write(
        c.ResolveAlert,
        "/alerts/<string:alert_id>/resolution",
        ResolutionIn,
        "alert_resolution",
        "Acknowledge, override or mark changed, with a reason that says something (422 "
        "otherwise). A suicide-risk alert: only a psychiatrist or therapist on the care team "
        "(403 otherwise), with `action` (and `result` for risk_assessment_done); any other "
        "alert: a psychiatrist or pharmacist.",
    ),
)
corrections = _blueprint(
    "corrections",
    "Corrections of earlier entries (the original stays).",
    Write(
        c.CorrectEntry,
        "/corrections",
        CorrectionIn,
        "correction",
        "Correct fields of an earlier entry you made.",
        prepare=_correction,
    ),
)
care = _blueprint(
    "care",
    "Education, labs, clinical facts, goals and plan reviews.",
    Write(c.RecordEducation, "/education", EducationIn, "education", "Record education."),
    Write(
        c.RecordLabResult,
        "/labs",
        LabResultIn,
        "lab_result",
        "Record a lab result or measurement (satisfies monitoring items). A test name no "
        "rule reads is kept as typed and the answer's warnings say so.",
    ),
    Write(
        c.RecordFact,
        "/facts",
        FactIn,
        "clinical_fact",
        "Record a clinical fact. A fact the rules read (see the FactIn schema) takes only its "
        "allowed values, common wordings normalised, else 422 naming them; any other fact is "
        "kept as typed and the answer's warnings say no rule reads it.",
    ),
    Write(c.SetGoal, "/goals", GoalIn, "goal", "Set a treatment goal."),
    Write(
        c.ChangeGoalStatus,
        "/goals/<string:goal_id>/status",
        GoalStatusIn,
        "goal",
        "Change a goal's status.",
    ),
    Write(c.ReviewPlan, "/reviews", ReviewIn, "plan_review", "Record a plan (medication) review."),
)

BLUEPRINTS = (
    consents,
    assessments,
    medications,
    side_effects,
    notes,
    follow_ups,
    alerts,
    corrections,
    care,
)
