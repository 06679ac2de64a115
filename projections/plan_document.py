"""The plan document: the one builder of the plan as the API returns it.

The current-plan view stores it per patient as plain JSON (times as fixed-width UTC text),
re-rendering only the sections a batch's events can change, and ``present`` turns the
stored times back into datetimes and decides overdue follow-ups at read time. The plan
under the two clocks of the history (``services/reading/plan_document.py``) is
``live_document``: the same renderers over a state folded on demand, so the two can never
drift. The view adds ``position`` (the last log position applied to this patient); the
live document adds each open alert's age.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.plan import PlanState
from projections.plan_sections import (
    alerts,
    assessments,
    care_team,
    conditions,
    consents,
    follow_ups,
    goals,
    medications,
    patient,
    pharmacogenomics,
    pregnancy,
)
from projections.plan_states import EVERYTHING, Folded, Sections, of_plan, revive

DOCUMENT = Sections(
    renderers={
        "patient_id": lambda pid, _state: pid,
        "patient": patient,
        "medications": of_plan(medications),
        "assessments": of_plan(assessments),
        "alerts": of_plan(alerts),
        "goals": of_plan(goals),
        "follow_ups": of_plan(follow_ups),
        "consents": of_plan(consents),
        "care_team": of_plan(care_team),
        "conditions": of_plan(conditions),
        "pregnancy": of_plan(pregnancy),
        "pharmacogenomics": of_plan(pharmacogenomics),
    },
    affects={
        "PatientRegistered": {"patient_id", "patient"},
        "CareTeamMemberAssigned": {"care_team"},
        "CareTeamMemberRemoved": {"care_team"},
        "ConsentRecorded": {"consents"},
        "AssessmentRecorded": {"assessments", "conditions"},  # diagnoses join the list
        "GoalSet": {"goals"},
        "GoalStatusChanged": {"goals"},
        "MedicationPrescribed": {"medications"},
        "DoseChanged": {"medications"},
        "MedicationDiscontinued": {"medications"},
        "SafetyAlertRaised": {"alerts"},
        "SafetyAlertResolved": {"alerts"},
        "FollowUpScheduled": {"follow_ups"},
        "FollowUpCompleted": {"follow_ups"},
        "EmergencyAccessGranted": set(),
        "SideEffectReported": set(),
        "AdherenceReported": set(),
        "NoteAdded": set(),
        "EducationProvided": set(),
        "PlanReviewed": set(),
        "LabResultRecorded": set(),
        "ClinicalFactRecorded": {"pharmacogenomics"},  # a metaboliser fact: a phenotype
        "ConditionRecorded": {"conditions"},
        "ConditionResolved": {"conditions"},
        "SexAtBirthRecorded": {"patient"},
        "PregnancyStatusRecorded": {"pregnancy"},
        "PharmacogenomicResultRecorded": {"pharmacogenomics"},
        "EntryCorrected": EVERYTHING,  # a correction can change any part
    },
)
"""The stored plan: which event types can change which part of it, for every event type
(``tests/unit/test_event_handlers.py``; a type not listed re-renders everything)."""


def document(patient_id: str, folded: Folded, kinds: Sequence[str] | None = None) -> str:
    """The JSON the view stores for a patient: the plan, times as text, no read-time
    flags; only the parts ``kinds`` (this batch's event types) can have changed are
    rendered again."""
    return DOCUMENT.encode(patient_id, folded, kinds)


def present(doc: dict[str, Any], version: int, position: int, now: datetime) -> dict[str, Any]:
    """The stored document as ``GET /plan`` returns it: the version and position it
    reflects, datetimes, overdue follow-ups."""
    doc.update(version=version, position=position)
    return _revived(doc, now)


def live_document(state: PlanState, patient_id: str, version: int, now: datetime) -> dict[str, Any]:
    """The plan of a state folded on demand (the record now, or under either clock of the
    history), rendered by the same renderers as the stored view, so the two documents
    can never drift: times as datetimes, overdue follow-ups and alert ages judged at
    ``now``."""
    doc = {part: render(patient_id, state) for part, render in DOCUMENT.renderers.items()}
    doc["version"] = version
    doc = _revived(doc, now)
    for alert in doc["alerts"]:
        alert["age_days"] = age_days(alert["raised_at"], now)
    return doc


def open_alerts(state: PlanState, now: datetime | None = None) -> list[dict[str, Any]]:
    """The open alerts as ``live_document`` lists them (with their age, given ``now``)."""
    found = alerts(state)
    for alert in found:
        alert["due_at"], alert["raised_at"] = revive(alert["due_at"]), revive(alert["raised_at"])
        alert["age_days"] = age_days(alert["raised_at"], now)
    return found


def age_days(raised_at: datetime | None, now: datetime | None) -> int | None:
    """Whole days an alert has been open (0 on the day it was raised)."""
    if raised_at is None or now is None:
        return None
    return max(0, (now - raised_at).days)


def _revived(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Stored times back to datetimes, and follow-ups marked overdue at ``now``."""
    for med in doc["medications"]:
        for key in ("since", "last_change", "stopped_at"):
            med[key] = revive(med[key])
    for item in doc["assessments"] + doc["consents"]:
        item["effective_at"] = revive(item["effective_at"])
    for alert in doc["alerts"]:
        alert["due_at"], alert["raised_at"] = revive(alert["due_at"]), revive(alert["raised_at"])
    for follow_up in doc["follow_ups"]:
        due = revive(follow_up["due_at"])
        follow_up.update(due_at=due, overdue=due is not None and due < now)
    for member in doc["care_team"]:
        member["since"] = revive(member["since"])
    for condition in doc.setdefault("conditions", []):  # documents stored before them: none
        condition["since"] = revive(condition["since"])
    pregnancy = doc.setdefault("pregnancy", None)
    if pregnancy is not None:
        pregnancy["effective_at"] = revive(pregnancy["effective_at"])
    genes = doc.setdefault("pharmacogenomics", {"phenotypes": [], "results": []})
    for result in genes["results"]:  # documents stored before them: none
        result["effective_at"] = revive(result["effective_at"])
    return doc
