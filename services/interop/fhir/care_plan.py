"""Treatment goals as ``Goal`` and the plan that ties the care together as one ``CarePlan``.

The CarePlan's activities are the current medication requests (by reference) and the
follow-up check-ins (scheduled or completed, with their outcome); it points at the goals
and the care team.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from domain.plan import event_type
from domain.scoring import INSTRUMENTS
from services.interop.fhir import vocabulary as v
from services.interop.fhir.medications import MEDICATION_EVENTS, request_id
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, fhir_date, instant, moment, ref, resource_id
from services.interop.fhir.selection import Selection

GOAL_LIFECYCLE = {
    "active": "active",
    "met": "completed",
    "revised": "active",
    "abandoned": "cancelled",
}
GOAL_ACHIEVEMENT = {"met": ("achieved", "Achieved"), "abandoned": ("not-achieved", "Not Achieved")}
ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
ASSESS_PLAN = v.concept(
    "Assessment and Plan of Treatment",
    v.coding(
        "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
        "assess-plan",
        "Assessment and Plan of Treatment",
    ),
)


def _narrative(sel: Selection, activities: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan in a sentence or two, as US Core asks every CarePlan to carry."""
    goals = [g.description for g in sel.state.goals.values()]
    parts = [f"Goals: {'; '.join(goals)}." if goals else "No goals set."]
    parts.append(f"{len(activities)} planned activities (current medications and check-ins).")
    text = " ".join(parts)
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></div>',
    }


def _measure(target: str | None) -> dict[str, Any] | None:
    """The scored instrument a target names (its total score's LOINC code), if any."""
    if not target:
        return None
    for spec in INSTRUMENTS.values():
        if re.search(rf"\b{re.escape(spec.name)}\b", target, re.IGNORECASE):
            display = f"{spec.name} total score"
            return v.concept(display, v.coding(v.LOINC, spec.total_loinc, display))
    return None


def goal_id(key: str) -> str:
    return resource_id("Goal", key)


def goal_entries(sel: Selection) -> list[Entry]:
    entries = []
    for goal in sel.state.goals.values():
        status = goal.status
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "id": goal_id(goal.goal_id),
            "meta": v.us_core("us-core-goal"),
            "identifier": [v.identifier("goal-id", goal.goal_id)],
            "lifecycleStatus": GOAL_LIFECYCLE.get(status, "active"),
            "description": {"text": goal.description},
            "subject": patient_ref(sel),
            "startDate": fhir_date(goal.effective_at),
            "expressedBy": practitioner_ref(goal.actor.id),
        }
        target: dict[str, Any] = {}
        measure = _measure(goal.target)
        if measure is not None:  # gol-1: a detail only with the measure it is about
            target["measure"] = measure
            target["detailString"] = goal.target
        elif goal.target:
            resource["note"] = [{"text": f"Target: {goal.target}"}]
        if goal.due_date:
            target["dueDate"] = fhir_date(goal.due_date)
        if target:
            resource["target"] = [target]
        if status in GOAL_ACHIEVEMENT:
            code, display = GOAL_ACHIEVEMENT[status]
            resource["achievementStatus"] = v.concept(display, v.coding(ACHIEVEMENT, code, display))
        if goal.status_changed_at is not None:
            resource["statusDate"] = fhir_date(goal.status_changed_at)
            if goal.status_note:
                resource["statusReason"] = goal.status_note
        made_by = [
            goal.event_id,
            *sel.ids_about("goal_id", goal.goal_id, "GoalStatusChanged"),
        ]
        entries.append(Entry(resource, made_by))
    return entries


def care_plan_entries(sel: Selection) -> list[Entry]:
    state = sel.state
    activities: list[dict[str, Any]] = []
    for order in state.orders.values():
        if order.status == "active":
            activities.append(
                {"reference": ref("MedicationRequest", request_id(order.steps[-1].event_id))}
            )
    for follow_up in sorted(
        state.follow_ups.values(), key=lambda f: (moment(f.due_at), f.follow_up_id)
    ):
        detail: dict[str, Any] = {
            "kind": "Appointment",
            "status": "completed" if follow_up.status == "completed" else "scheduled",
            "description": follow_up.purpose,
            "scheduledPeriod": {"end": instant(moment(follow_up.due_at))},
        }
        activity: dict[str, Any] = {"detail": detail}
        if follow_up.outcome:
            activity["outcomeCodeableConcept"] = [{"text": follow_up.outcome}]
        activities.append(activity)
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": resource_id("CarePlan", sel.patient_id),
        "meta": v.us_core("us-core-careplan"),
        "text": _narrative(sel, activities),
        "status": "active",
        "intent": "plan",
        "category": [ASSESS_PLAN],
        "title": "CareLog care plan",
        "subject": patient_ref(sel),
    }
    if state.patient.registered_at is not None:
        resource["period"] = {"start": instant(moment(state.patient.registered_at))}
    if state.care_team or state.emergency_access:
        resource["careTeam"] = [ref("CareTeam", resource_id("CareTeam", sel.patient_id))]
    if state.goals:
        resource["goal"] = [ref("Goal", goal_id(g)) for g in state.goals]
    if activities:
        resource["activity"] = activities
    made_by = [
        e.event_id
        for e in sel.events
        if event_type(e)
        in {
            "PatientRegistered",
            "GoalSet",
            "FollowUpScheduled",
            "FollowUpCompleted",
            *MEDICATION_EVENTS,
        }
    ]
    return [Entry(resource, made_by)]
