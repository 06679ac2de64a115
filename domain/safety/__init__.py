"""Clinical safety rules: a pure engine over a versioned, sourced rule pack.

``evaluate(context, change)`` returns the findings (interactions, maximum doses,
duplicate therapy, abrupt stops, titration, MAOI washouts, monitoring due, suicide-risk
answers, worsening scores, drugs not in the pack) for the plan after a change. The rule
pack requires clinical review before use with real patients.
"""

from __future__ import annotations

from domain.safety.context import (
    AssessmentPoint,
    Change,
    DoseStep,
    Finding,
    LabResult,
    MedicationCourse,
    PatientContext,
    SideEffect,
)
from domain.safety.drugs import DrugInfo
from domain.safety.engine import evaluate, is_change_driven
from domain.safety.frequency import FrequencyError, daily_dose, doses_per_day
from domain.safety.pack import RulePack, RulePackError, default_pack, load_rule_pack

__all__ = [
    "AssessmentPoint",
    "Change",
    "DoseStep",
    "DrugInfo",
    "Finding",
    "FrequencyError",
    "LabResult",
    "MedicationCourse",
    "PatientContext",
    "RulePack",
    "RulePackError",
    "SideEffect",
    "daily_dose",
    "default_pack",
    "doses_per_day",
    "evaluate",
    "is_change_driven",
    "load_rule_pack",
]
