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
from web.write_routes import add_write, command

PREFIX = "/api/v1/patients"
P = "/<uuid:pid>"


def _blueprint(name: str, description: str) -> CareLogBlueprint:
    return CareLogBlueprint(name, __name__, url_prefix=PREFIX, description=description)


def _correction(data: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return {
        "event_id": data["event_id"],
        "fields": data["corrected_fields"],
        "reason": data["reason"],
    }


consents = _blueprint("consents", "The patient's consent decisions.")
add_write(
    consents,
    f"{P}/consents",
    ConsentIn,
    endpoint="record_consent",
    what="consent",
    handler=command(c.RecordConsent),
    summary="Record a consent decision.",
)

assessments = _blueprint("assessments", "PHQ-9, GAD-7 and clinical assessments, scored here.")
add_write(
    assessments,
    f"{P}/assessments",
    AssessmentIn,
    endpoint="record_assessment",
    what="assessment",
    handler=command(c.RecordAssessment),
    summary="Record an assessment; returns its total, severity band and any alerts.",
)

medications = _blueprint("medications", "Prescriptions, dose changes and discontinuations.")
add_write(
    medications,
    f"{P}/medications",
    MedicationIn,
    endpoint="prescribe",
    what="medication",
    handler=command(c.Prescribe),
    summary="Prescribe; contraindicated combinations need override_reason.",
)
add_write(
    medications,
    f"{P}/medications/<string:order_id>/dose-changes",
    DoseChangeIn,
    endpoint="change_dose",
    what="medication",
    handler=command(c.ChangeDose),
    summary="Change the dose of an active order (schedules a check-in).",
)
add_write(
    medications,
    f"{P}/medications/<string:order_id>/discontinuation",
    DiscontinuationIn,
    endpoint="discontinue",
    what="medication",
    handler=command(c.Discontinue),
    summary="Stop an active order, with a taper where needed.",
)
add_write(
    medications,
    f"{P}/adherence",
    AdherenceIn,
    endpoint="record_adherence",
    what="adherence",
    handler=command(c.RecordAdherence),
    summary="Report doses taken and missed over a period.",
)

side_effects = _blueprint("side_effects", "Side effects seen or reported.")
add_write(
    side_effects,
    f"{P}/side-effects",
    SideEffectIn,
    endpoint="report_side_effect",
    what="side_effect",
    handler=command(c.ReportSideEffect),
    summary="Report a side effect.",
)


def note_kind(body: dict[str, Any]) -> str:
    """The permission a note needs: a psychotherapy note's own (so a refusal names it)."""
    return "psychotherapy_note" if body.get("kind") == "psychotherapy" else "progress_note"


notes = _blueprint("notes", "Progress notes and psychotherapy notes (author-only text).")
add_write(
    notes,
    f"{P}/notes",
    NoteIn,
    endpoint="add_note",
    what=note_kind,
    handler=command(c.AddNote),
    summary="Add a progress or psychotherapy note.",
)

follow_ups = _blueprint("follow_ups", "Check-ins that fall due.")
add_write(
    follow_ups,
    f"{P}/follow-ups",
    FollowUpIn,
    endpoint="schedule_follow_up",
    what="follow_up",
    handler=command(c.ScheduleFollowUp),
    summary="Schedule a follow-up.",
)
add_write(
    follow_ups,
    f"{P}/follow-ups/<string:follow_up_id>/completion",
    CompletionIn,
    endpoint="complete_follow_up",
    what="follow_up",
    handler=command(c.CompleteFollowUp),
    summary="Complete a follow-up.",
)

alerts = _blueprint("alerts", "Safety alerts and their review.")
add_write(
    alerts,
    f"{P}/alerts/<string:alert_id>/resolution",
    ResolutionIn,
    endpoint="resolve_alert",
    what="alert_resolution",
    handler=command(c.ResolveAlert),
    summary=(
        "Acknowledge, override or mark changed, with a reason that says something (422 "
        "otherwise). A suicide-risk alert: only a psychiatrist or therapist on the care team "
        "(403 otherwise), with `action` (and `result` for risk_assessment_done); any other "
        "alert: a psychiatrist or pharmacist."
    ),
)

corrections = _blueprint("corrections", "Corrections of earlier entries (the original stays).")
add_write(
    corrections,
    f"{P}/corrections",
    CorrectionIn,
    endpoint="correct_entry",
    what="correction",
    handler=command(c.CorrectEntry),
    prepare=_correction,
    summary="Correct fields of an earlier entry you made.",
)

care = _blueprint("care", "Education, labs, clinical facts, goals and plan reviews.")
add_write(
    care,
    f"{P}/education",
    EducationIn,
    endpoint="record_education",
    what="education",
    handler=command(c.RecordEducation),
    summary="Record education.",
)
add_write(
    care,
    f"{P}/labs",
    LabResultIn,
    endpoint="record_lab_result",
    what="lab_result",
    handler=command(c.RecordLabResult),
    summary=(
        "Record a lab result or measurement (satisfies monitoring items). A test name no "
        "rule reads is kept as typed and the answer's warnings say so."
    ),
)
add_write(
    care,
    f"{P}/facts",
    FactIn,
    endpoint="record_fact",
    what="clinical_fact",
    handler=command(c.RecordFact),
    summary=(
        "Record a clinical fact. A fact the rules read (see the FactIn schema) takes only its "
        "allowed values, common wordings normalised, else 422 naming them; any other fact is "
        "kept as typed and the answer's warnings say no rule reads it."
    ),
)
add_write(
    care,
    f"{P}/goals",
    GoalIn,
    endpoint="set_goal",
    what="goal",
    handler=command(c.SetGoal),
    summary="Set a treatment goal.",
)
add_write(
    care,
    f"{P}/goals/<string:goal_id>/status",
    GoalStatusIn,
    endpoint="change_goal_status",
    what="goal",
    handler=command(c.ChangeGoalStatus),
    summary="Change a goal's status.",
)
add_write(
    care,
    f"{P}/reviews",
    ReviewIn,
    endpoint="review_plan",
    what="plan_review",
    handler=command(c.ReviewPlan),
    summary="Record a plan (medication) review.",
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
