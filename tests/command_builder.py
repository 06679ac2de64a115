"""Typed commands from the keyword fields tests like to write (``dose={...}``, dates as
ISO text), for the helpers that name a command by its record method: what the HTTP schema
does at the edge, done loosely, so a test can still hand the record a value no schema
would let through and see the record refuse it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any

from domain import commands as c
from domain.dose import Dose

CLASSES: dict[str, type[Any]] = {
    "assign_care_team_member": c.AssignCareTeamMember,
    "remove_care_team_member": c.RemoveCareTeamMember,
    "grant_emergency_access": c.GrantEmergencyAccess,
    "record_consent": c.RecordConsent,
    "record_assessment": c.RecordAssessment,
    "set_goal": c.SetGoal,
    "change_goal_status": c.ChangeGoalStatus,
    "prescribe": c.Prescribe,
    "change_dose": c.ChangeDose,
    "discontinue": c.Discontinue,
    "report_side_effect": c.ReportSideEffect,
    "record_adherence": c.RecordAdherence,
    "resolve_alert": c.ResolveAlert,
    "add_note": c.AddNote,
    "record_education": c.RecordEducation,
    "schedule_follow_up": c.ScheduleFollowUp,
    "complete_follow_up": c.CompleteFollowUp,
    "review_plan": c.ReviewPlan,
    "record_lab_result": c.RecordLabResult,
    "record_fact": c.RecordFact,
    "correct_entry": c.CorrectEntry,
    "record_condition": c.RecordCondition,
    "resolve_condition": c.ResolveCondition,
    "record_sex_at_birth": c.RecordSexAtBirth,
    "record_pregnancy_status": c.RecordPregnancyStatus,
    "record_pharmacogenomic_result": c.RecordPharmacogenomicResult,
    "register_patient": c.RegisterPatient,
}
RECORD_EXTRAS = {"prescribe": ("order_id", "drug"), "assign_care_team_member": ("clinician_name",)}
"""What the record's method takes beside the command (the service resolves them)."""


def _value(cls: type[Any], name: str, value: Any) -> Any:
    if name == "dose" and isinstance(value, Mapping):
        return Dose(value.get("amount"), value.get("unit"))
    typed = {f.name: f.type for f in dataclasses.fields(cls)}.get(name, "")
    if isinstance(value, str) and str(typed).startswith("date"):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def command(method: str, fields: Mapping[str, Any]) -> Any:
    """The command the service's ``execute`` takes."""
    cls = CLASSES[method]
    return cls(**{name: _value(cls, name, value) for name, value in fields.items()})


def record_call(method: str, fields: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The command and the extra keywords the record's method takes."""
    extras = {k: v for k, v in fields.items() if k in RECORD_EXTRAS.get(method, ())}
    rest = {k: v for k, v in fields.items() if k not in extras}
    if method == "prescribe":
        drug = extras.get("drug")
        rest["drug"] = drug.get("name") if isinstance(drug, Mapping) else drug
    return command(method, rest), extras
