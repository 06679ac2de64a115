"""The commands that need nothing but the record: for each command class, the record's
method that decides it, the id the caller gets back, and how the safety rules see it.

Keyed by class, not by name: a command class without an entry here or a handler of its
own in ``Commands.execute`` fails a test (tests/unit/test_command_dispatch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.patient_record import PatientRecord

Decide = Callable[[PatientRecord, CommandContext, Any], str]


@dataclass(frozen=True)
class Route:
    """How one command class reaches the record and the safety rules."""

    decide: Decide
    returns: str | None = None  # the id field the caller gets back (e.g. "note_id")
    id_attr: str | None = None  # the event attribute holding that id
    safety: str | None = None  # the safety Change kind, or None: rules not run


R = PatientRecord
ROUTES: dict[type[Any], Route] = {
    c.RemoveCareTeamMember: Route(R.remove_care_team_member),
    c.GrantEmergencyAccess: Route(R.grant_emergency_access),
    c.RecordConsent: Route(R.record_consent, "consent_id", "consent_id"),
    c.SetGoal: Route(R.set_goal, "goal_id", "goal_id"),
    c.ChangeGoalStatus: Route(R.change_goal_status),
    c.Discontinue: Route(R.discontinue, safety="discontinued"),
    c.ReportSideEffect: Route(
        R.report_side_effect, "side_effect_id", "side_effect_id", "side_effect"
    ),
    c.RecordAdherence: Route(R.record_adherence, "adherence_id", "adherence_id"),
    c.ResolveAlert: Route(R.resolve_alert),
    c.AddNote: Route(R.add_note, "note_id", "note_id"),
    c.RecordEducation: Route(R.record_education, "education_id", "education_id"),
    c.ScheduleFollowUp: Route(R.schedule_follow_up, "follow_up_id", "follow_up_id"),
    c.CompleteFollowUp: Route(R.complete_follow_up),
    c.ReviewPlan: Route(R.review_plan, "review_id", "review_id"),
    c.RecordLabResult: Route(R.record_lab_result, "lab_id", "lab_id", "lab"),
    c.RecordFact: Route(R.record_fact, safety="fact"),
    c.CorrectEntry: Route(R.correct_entry, safety="correction"),
    c.RecordCondition: Route(R.record_condition, "condition_id", "condition_id", "condition"),
    c.ResolveCondition: Route(R.resolve_condition, safety="condition"),
    c.RecordSexAtBirth: Route(R.record_sex_at_birth, safety="condition"),
    c.RecordPregnancyStatus: Route(R.record_pregnancy_status, safety="condition"),
    c.RecordPharmacogenomicResult: Route(
        R.record_pharmacogenomic_result, "result_id", "result_id", "pharmacogenomic"
    ),
}
