"""Stored topics are part of the log: renaming or moving a class must not change them."""

from __future__ import annotations

from eventsourcing.utils import get_topic, resolve_topic

from domain.patient_index import PatientIndex
from domain.patient_record import PatientRecord

EXPECTED = {
    "PatientRecord": "carelog.PatientRecord",
    "PatientRegistered": "carelog.PatientRegistered",
    "CareTeamMemberAssigned": "carelog.CareTeamMemberAssigned",
    "CareTeamMemberRemoved": "carelog.CareTeamMemberRemoved",
    "EmergencyAccessGranted": "carelog.EmergencyAccessGranted",
    "ConsentRecorded": "carelog.ConsentRecorded",
    "AssessmentRecorded": "carelog.AssessmentRecorded",
    "GoalSet": "carelog.GoalSet",
    "GoalStatusChanged": "carelog.GoalStatusChanged",
    "MedicationPrescribed": "carelog.MedicationPrescribed",
    "DoseChanged": "carelog.DoseChanged",
    "MedicationDiscontinued": "carelog.MedicationDiscontinued",
    "SideEffectReported": "carelog.SideEffectReported",
    "AdherenceReported": "carelog.AdherenceReported",
    "SafetyAlertRaised": "carelog.SafetyAlertRaised",
    "SafetyAlertResolved": "carelog.SafetyAlertResolved",
    "NoteAdded": "carelog.NoteAdded",
    "EducationProvided": "carelog.EducationProvided",
    "FollowUpScheduled": "carelog.FollowUpScheduled",
    "FollowUpCompleted": "carelog.FollowUpCompleted",
    "PlanReviewed": "carelog.PlanReviewed",
    "LabResultRecorded": "carelog.LabResultRecorded",
    "ClinicalFactRecorded": "carelog.ClinicalFactRecorded",
    "EntryCorrected": "carelog.EntryCorrected",
    "ConditionRecorded": "carelog.ConditionRecorded",
    "ConditionResolved": "carelog.ConditionResolved",
    "SexAtBirthRecorded": "carelog.SexAtBirthRecorded",
    "PregnancyStatusRecorded": "carelog.PregnancyStatusRecorded",
    "PharmacogenomicResultRecorded": "carelog.PharmacogenomicResultRecorded",
}


class TestStableTopics:
    def test_every_event_has_its_fixed_topic(self) -> None:
        for name, topic in EXPECTED.items():
            cls = PatientRecord if name == "PatientRecord" else getattr(PatientRecord, name)
            assert get_topic(cls) == topic
            assert resolve_topic(topic) is cls

    def test_no_event_class_lacks_a_listed_topic(self) -> None:
        events = {
            name
            for name, value in vars(PatientRecord).items()
            if isinstance(value, type)
            and hasattr(value, "TOPIC")
            and name not in {"Created", "Event"}
        }
        assert events == set(EXPECTED) - {"PatientRecord"}

    def test_index_topic_is_fixed(self) -> None:
        assert get_topic(PatientIndex) == "carelog.PatientIndex"
        assert get_topic(PatientIndex.Indexed) == "carelog.PatientIndex.Indexed"
