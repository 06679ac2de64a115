"""The sections of the plan document, one renderer each: the patient, the active
medications, the latest assessments with their trend, the open alerts, goals, due
follow-ups, consents, the care team, the problem list, pregnancy and pharmacogenomics.

Each renders from the folded state, with times as fixed-width UTC text
(``projections/plan_states.py``); ``projections/plan_document.py`` puts them together and
says which events change which section.
"""

from __future__ import annotations

from typing import Any

from domain.pharmacogenomics import summary as pharmacogenomic_summary
from domain.plan import PlanState
from domain.plan_entities import Alert, Order
from domain.plan_records import Assessment
from domain.plan_vocabulary import AlertStatus, FollowUpStatus, OrderStatus
from domain.problem_list import plain, problem_list
from projections.plan_states import iso

TREND_LENGTH = 6


def medication(order: Order) -> dict[str, Any]:
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


def assessments(state: PlanState) -> list[dict[str, Any]]:
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


def open_alerts(state: PlanState) -> list[Alert]:
    """The plan's alerts still open, the ones the plan document and the dashboard show."""
    return [a for a in state.alerts.values() if a.status is AlertStatus.OPEN]


def alert_head(a: Alert) -> dict[str, Any]:
    """What every view shows of an alert first: which it is and what it says."""
    return {"id": a.alert_id, "kind": a.kind, "severity": a.severity, "message": a.message}


def alerts(state: PlanState) -> list[dict[str, Any]]:
    return [
        {
            **alert_head(a),
            "action": a.action,
            "rule_id": a.rule_id,
            "source": a.source,
            "order_ids": list(a.order_ids),
            "due_at": iso(a.due_at),
            "raised_at": iso(a.recorded_at),
            "override_reason": a.override_reason,
        }
        for a in open_alerts(state)
    ]


def consents(state: PlanState) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for c in sorted(state.consents, key=lambda c: (c.effective_at, c.recorded_at)):
        latest[c.scope] = {
            "scope": c.scope,
            "decision": c.decision,
            "effective_at": iso(c.effective_at),
        }
    return list(latest.values())


def patient(patient_id: str, state: PlanState) -> dict[str, Any]:
    person = state.patient
    if not person:  # a view that skipped the registration
        return {
            "id": patient_id,
            "external_id": None,
            "name": None,
            "birth_date": None,
            "allergies": [],
            "sex_at_birth": person.sex_at_birth,
        }
    return {
        "id": patient_id,
        "external_id": person.external_id,
        "name": person.name,
        "birth_date": person.birth_date,
        "allergies": list(person.allergies),
        "sex_at_birth": person.sex_at_birth,
    }


def goals(state: PlanState) -> list[dict[str, Any]]:
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


def follow_ups(state: PlanState) -> list[dict[str, Any]]:
    return [
        {"follow_up_id": f.follow_up_id, "due_at": iso(f.due_at), "purpose": f.purpose}
        for f in sorted(state.follow_ups.values(), key=lambda f: f.due_at)
        if f.status is FollowUpStatus.SCHEDULED
    ]


def care_team(state: PlanState) -> list[dict[str, Any]]:
    return [
        {"clinician_id": m.clinician_id, "name": m.name, "role": m.role, "since": iso(m.since)}
        for m in state.care_team.values()
        if m.active
    ]


def medications(state: PlanState) -> list[dict[str, Any]]:
    return sorted(
        (medication(o) for o in state.orders.values() if o.status is OrderStatus.ACTIVE),
        key=lambda m: m["since"] or "",
    )


def conditions(state: PlanState) -> list[dict[str, Any]]:
    return [plain(c) for c in problem_list(state)]


def pregnancy(state: PlanState) -> dict[str, Any] | None:
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


def pharmacogenomics(state: PlanState) -> dict[str, Any]:
    found = pharmacogenomic_summary(state)
    results: list[dict[str, Any]] = [
        {**result, "effective_at": iso(result["effective_at"])} for result in found["results"]
    ]
    return {"phenotypes": found["phenotypes"], "results": results}
