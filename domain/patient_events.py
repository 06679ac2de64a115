"""Every event of a patient's record, by name: what the log holds.

``PatientRecord`` (``domain/patient_record.py``) takes each as an attribute, where the
library and every reader find it (``PatientRecord.DoseChanged``); code that annotates with
an event class imports this module. The classes live in ``domain/record_events.py`` (the
registration, the base ``Event``, the patient and the care team) and
``domain/care_events.py`` (assessments, medication, alerts, everyday care).

Each class's ``TOPIC`` is what the log stores: a class may move, its topic never changes
(``tests/unit/test_topics.py``).
"""

from __future__ import annotations

from domain.care_events import (
    AdherenceReported,
    AssessmentRecorded,
    ClinicalFactRecorded,
    DoseChanged,
    EducationProvided,
    FollowUpCompleted,
    FollowUpScheduled,
    GoalSet,
    GoalStatusChanged,
    LabResultRecorded,
    MedicationDiscontinued,
    MedicationPrescribed,
    NoteAdded,
    PlanReviewed,
    SafetyAlertRaised,
    SafetyAlertResolved,
    SideEffectReported,
)
from domain.record_events import (
    CareTeamMemberAssigned,
    CareTeamMemberRemoved,
    ConditionRecorded,
    ConditionResolved,
    ConsentRecorded,
    EmergencyAccessGranted,
    EntryCorrected,
    Event,
    PatientRegistered,
    PharmacogenomicResultRecorded,
    PregnancyStatusRecorded,
    SexAtBirthRecorded,
)

__all__ = [
    "AdherenceReported",
    "AssessmentRecorded",
    "CareTeamMemberAssigned",
    "CareTeamMemberRemoved",
    "ClinicalFactRecorded",
    "ConditionRecorded",
    "ConditionResolved",
    "ConsentRecorded",
    "DoseChanged",
    "EducationProvided",
    "EmergencyAccessGranted",
    "EntryCorrected",
    "Event",
    "FollowUpCompleted",
    "FollowUpScheduled",
    "GoalSet",
    "GoalStatusChanged",
    "LabResultRecorded",
    "MedicationDiscontinued",
    "MedicationPrescribed",
    "NoteAdded",
    "PatientRegistered",
    "PharmacogenomicResultRecorded",
    "PlanReviewed",
    "PregnancyStatusRecorded",
    "SafetyAlertRaised",
    "SafetyAlertResolved",
    "SexAtBirthRecorded",
    "SideEffectReported",
]
