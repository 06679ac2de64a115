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

from domain.pharmacogenomics import summary as pharmacogenomic_summary
from domain.plan import PlanState
from domain.plan_entities import Order
from domain.plan_records import Assessment
from domain.plan_vocabulary import AlertStatus, FollowUpStatus, OrderStatus
from domain.problem_list import plain, problem_list
from projections.plan_states import EVERYTHING, Folded, Sections, iso, revive

TREND_LENGTH = 6


def _medication(order: Order) -> dict[str, Any]:
    current = order.current
    changed = len(order.steps) > 1
    return {
        "order_id": order.order_id,
        "drug": order.drug["name"],
        "drug_info": {
            k: order.drug.get(k) for k in ("generic", "classes", "rxnorm", "in_rule_pack")
        }
        # a combination product's ingredients, as the rules read them
        | ({"ingredients": order.drug["ingredients"]} if order.drug.get("ingredients") else {}),
        "dose": dict(current.dose),
        "frequency": current.frequency,
        "route": order.route,
        "indication": order.indication,
        "since": iso(order.since),
        "last_change": iso(current.effective_at) if changed else None,
        "last_change_reason": current.reason if changed else None,
        "continuing": order.continuing,
        "prescriber": order.prescriber.as_dict(),
        "status": order.status.value,
        "stopped_at": iso(order.stopped_at),
        "corrected": order.corrected,
    }


def _assessments(state: PlanState) -> list[dict[str, Any]]:
    latest: dict[str, Assessment] = {}
    totals: dict[str, list[int]] = {}
    for a in state.assessments:  # kept in effective order
        latest[a.instrument] = a
        if a.total is not None:
            totals.setdefault(a.instrument, []).append(a.total)
    out = []
    for instrument, a in latest.items():
        seen = totals.get(instrument, [])
        out.append(
            {
                "assessment_id": a.assessment_id,
                "instrument": instrument,
                "total": a.total,
                "severity": a.severity,
                "item_scores": list(a.item_scores),
                "diagnoses": list(a.diagnoses),
                "effective_at": iso(a.effective_at),
                "trend": seen[-TREND_LENGTH:],
                "change": seen[-1] - seen[-2] if len(seen) > 1 else None,
                "corrected": a.corrected,
            }
        )
    return out


def _alerts(state: PlanState) -> list[dict[str, Any]]:
    return [
        {
            "id": a.alert_id,
            "kind": a.kind,
            "severity": a.severity,
            "message": a.message,
            "action": a.action,
            "rule_id": a.rule_id,
            "source": a.source,
            "order_ids": list(a.order_ids),
            "due_at": iso(a.due_at),
            "raised_at": iso(a.recorded_at),
            "override_reason": a.override_reason,
        }
        for a in state.alerts.values()
        if a.status is AlertStatus.OPEN
    ]


def _consents(state: PlanState) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for c in sorted(state.consents, key=lambda c: (c.effective_at, c.recorded_at)):
        latest[c.scope] = {
            "scope": c.scope,
            "decision": c.decision,
            "effective_at": iso(c.effective_at),
        }
    return list(latest.values())


def _patient(patient_id: str, state: PlanState) -> dict[str, Any]:
    patient = state.patient
    if not patient:  # a view that skipped the registration
        return {
            "id": patient_id,
            "external_id": None,
            "name": None,
            "birth_date": None,
            "allergies": [],
            "sex_at_birth": patient.sex_at_birth,
        }
    return {
        "id": patient_id,
        "external_id": patient.external_id,
        "name": patient.name,
        "birth_date": patient.birth_date,
        "allergies": list(patient.allergies),
        "sex_at_birth": patient.sex_at_birth,
    }


def _goals(state: PlanState) -> list[dict[str, Any]]:
    return [
        {
            "goal_id": g.goal_id,
            "description": g.description,
            "target": g.target,
            "due_date": g.due_date,
            "status": g.status,
        }
        for g in state.goals.values()
    ]


def _follow_ups(state: PlanState) -> list[dict[str, Any]]:
    return [
        {"follow_up_id": f.follow_up_id, "due_at": iso(f.due_at), "purpose": f.purpose}
        for f in sorted(state.follow_ups.values(), key=lambda f: f.due_at)
        if f.status is FollowUpStatus.SCHEDULED
    ]


def _care_team(state: PlanState) -> list[dict[str, Any]]:
    return [
        {"clinician_id": m.clinician_id, "name": m.name, "role": m.role, "since": iso(m.since)}
        for m in state.care_team.values()
        if m.active
    ]


def _medications(state: PlanState) -> list[dict[str, Any]]:
    return sorted(
        (_medication(o) for o in state.orders.values() if o.status is OrderStatus.ACTIVE),
        key=lambda m: m["since"] or "",
    )


def _conditions(state: PlanState) -> list[dict[str, Any]]:
    return [plain(c) for c in problem_list(state)]


def _pregnancy(state: PlanState) -> dict[str, Any] | None:
    status = state.pregnancy
    if status is None:
        return None
    return {
        "status": status.status,
        "as_of": status.as_of,
        "expected_delivery_date": status.expected_delivery_date,
        "recorded_by": status.actor.as_dict(),
        "effective_at": iso(status.effective_at),
    }


def _pharmacogenomics(state: PlanState) -> dict[str, Any]:
    found = pharmacogenomic_summary(state)
    results: list[dict[str, Any]] = [
        {**result, "effective_at": iso(result["effective_at"])} for result in found["results"]
    ]
    return {"phenotypes": found["phenotypes"], "results": results}


DOCUMENT = Sections(
    renderers={
        "patient_id": lambda pid, _state: pid,
        "patient": _patient,
        "medications": lambda _pid, state: _medications(state),
        "assessments": lambda _pid, state: _assessments(state),
        "alerts": lambda _pid, state: _alerts(state),
        "goals": lambda _pid, state: _goals(state),
        "follow_ups": lambda _pid, state: _follow_ups(state),
        "consents": lambda _pid, state: _consents(state),
        "care_team": lambda _pid, state: _care_team(state),
        "conditions": lambda _pid, state: _conditions(state),
        "pregnancy": lambda _pid, state: _pregnancy(state),
        "pharmacogenomics": lambda _pid, state: _pharmacogenomics(state),
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
    alerts = _alerts(state)
    for alert in alerts:
        alert["due_at"], alert["raised_at"] = revive(alert["due_at"]), revive(alert["raised_at"])
        alert["age_days"] = age_days(alert["raised_at"], now)
    return alerts


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
