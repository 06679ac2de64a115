"""The patient events that never leave CareLog in a feed, and why: every event type is
either in the feed contract (``services/feeds/feed_contract.py``) or listed here, so a new
one is decided on purpose (``tests/unit/test_feed_contract.py``)."""

from __future__ import annotations

NEVER_LEAVES: dict[str, str] = {
    "PatientRegistered": "the patient's identity stays in CareLog; subject is the opaque id",
    "EmergencyAccessGranted": "an audit matter, reviewed in the audit trail",
    "ConsentRecorded": "consent decisions and their notes are read in CareLog",
    "GoalSet": "treatment goals are read in CareLog",
    "GoalStatusChanged": "treatment goals are read in CareLog",
    "EducationProvided": "not needed by another team",
    "ConditionRecorded": "diagnoses are read in CareLog; the alerts they raise do leave",
    "ConditionResolved": "diagnoses are read in CareLog; the alerts they close do leave",
    "SexAtBirthRecorded": "part of the patient's identity, which stays in CareLog",
    "PregnancyStatusRecorded": "pregnancy is read in CareLog; the alerts it raises do leave",
    "PharmacogenomicResultRecorded": (
        "genetic results are read in CareLog (and exported as FHIR); the alerts they raise do leave"
    ),
}
"""Patient events with no feed type, and why (the index and the library's unused
``Created`` never leave either)."""
