"""The commands a patient's record accepts, as typed values: built once at the edge (the
HTTP schemas, the forms, the CLI) from input already parsed, decided by ``PatientRecord``,
and dispatched by their class (``services/writing/dispatch.py``).

A command says what the writer asks for; the record still checks it against its
invariants (access, clinical rules, the record's own state) and refuses with a field-level
error, so a command object is not a promise that it will be recorded.
"""

from __future__ import annotations

from domain.commands.alerts import ResolveAlert
from domain.commands.assessments import ChangeGoalStatus, RecordAssessment, SetGoal
from domain.commands.care_entries import (
    AddNote,
    CompleteFollowUp,
    RecordEducation,
    RecordFact,
    RecordLabResult,
    ReviewPlan,
    ScheduleFollowUp,
)
from domain.commands.care_team import (
    AssignCareTeamMember,
    GrantEmergencyAccess,
    RecordConsent,
    RegisterPatient,
    RemoveCareTeamMember,
)
from domain.commands.conditions import (
    CorrectEntry,
    RecordCondition,
    RecordPharmacogenomicResult,
    RecordPregnancyStatus,
    RecordSexAtBirth,
    ResolveCondition,
)
from domain.commands.medication import (
    ChangeDose,
    Discontinue,
    Prescribe,
    RecordAdherence,
    ReportSideEffect,
)

RecordCommand = (
    RemoveCareTeamMember
    | AssignCareTeamMember
    | GrantEmergencyAccess
    | RecordConsent
    | RecordAssessment
    | SetGoal
    | ChangeGoalStatus
    | Prescribe
    | ChangeDose
    | Discontinue
    | ReportSideEffect
    | RecordAdherence
    | ResolveAlert
    | AddNote
    | RecordEducation
    | ScheduleFollowUp
    | CompleteFollowUp
    | ReviewPlan
    | RecordLabResult
    | RecordFact
    | CorrectEntry
    | RecordCondition
    | ResolveCondition
    | RecordSexAtBirth
    | RecordPregnancyStatus
    | RecordPharmacogenomicResult
)
"""Every command on an existing record (registration creates one: ``RegisterPatient``)."""

__all__ = [
    "AddNote",
    "AssignCareTeamMember",
    "ChangeDose",
    "ChangeGoalStatus",
    "CompleteFollowUp",
    "CorrectEntry",
    "Discontinue",
    "GrantEmergencyAccess",
    "Prescribe",
    "RecordAdherence",
    "RecordAssessment",
    "RecordCommand",
    "RecordCondition",
    "RecordConsent",
    "RecordEducation",
    "RecordFact",
    "RecordLabResult",
    "RecordPharmacogenomicResult",
    "RecordPregnancyStatus",
    "RecordSexAtBirth",
    "RegisterPatient",
    "RemoveCareTeamMember",
    "ReportSideEffect",
    "ResolveAlert",
    "ResolveCondition",
    "ReviewPlan",
    "ScheduleFollowUp",
    "SetGoal",
]
