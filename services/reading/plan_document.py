"""The patient's plan as the API shows it, from a folded ``PlanState``.

One function serves every clock: the current plan, the plan as known at T and the plan in
effect at T are the same document built from differently folded states.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.pharmacogenomics import summary as pharmacogenomic_summary
from domain.plan import PlanState
from domain.problem_list import problem_list

TREND_LENGTH = 6


def medication(order: dict[str, Any]) -> dict[str, Any]:
    current = order["steps"][-1]
    return {
        "order_id": order["order_id"],
        "drug": order["drug"]["name"],
        "drug_info": {
            k: order["drug"].get(k) for k in ("generic", "classes", "rxnorm", "in_rule_pack")
        }
        # a combination product's ingredients, as the rules read them
        | (
            {"ingredients": order["drug"]["ingredients"]}
            if order["drug"].get("ingredients")
            else {}
        ),
        "dose": dict(current["dose"]),
        "frequency": current["frequency"],
        "route": order["route"],
        "indication": order["indication"],
        "since": order["since"],
        "last_change": current["effective_at"] if len(order["steps"]) > 1 else None,
        "prescriber": order["prescriber"],
        "status": order["status"],
        "stopped_at": order.get("stopped_at"),
        "corrected": bool(order.get("corrected")),
        "continuing": order.get("continuing"),
    }


def latest_assessments(state: PlanState) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    history: dict[str, list[int]] = {}
    for a in state.assessments:  # kept in effective order
        latest[a["instrument"]] = a
        if a["total"] is not None:
            history.setdefault(a["instrument"], []).append(a["total"])
    out = []
    for instrument, a in latest.items():
        totals = history.get(instrument, [])
        out.append(
            {
                "assessment_id": a["assessment_id"],
                "instrument": instrument,
                "total": a["total"],
                "severity": a["severity"],
                "item_scores": list(a["item_scores"]),
                "diagnoses": list(a["diagnoses"]),
                "effective_at": a["effective_at"],
                "trend": totals[-TREND_LENGTH:],
                "change": totals[-1] - totals[-2] if len(totals) > 1 else None,
                "corrected": bool(a.get("corrected")),
            }
        )
    return out


def age_days(raised_at: datetime | None, now: datetime | None) -> int | None:
    """Whole days an alert has been open (0 on the day it was raised)."""
    if raised_at is None or now is None:
        return None
    return max(0, (now - raised_at).days)


def open_alerts(state: PlanState, now: datetime | None = None) -> list[dict[str, Any]]:
    """The open alerts, each with when it was raised and (given ``now``) its age in days."""
    return [
        {
            "id": a["alert_id"],
            "kind": a["kind"],
            "severity": a["severity"],
            "message": a["message"],
            "action": a["action"],
            "rule_id": a["rule_id"],
            "source": a["source"],
            "order_ids": list(a["order_ids"]),
            "due_at": a["due_at"],
            "raised_at": a["recorded_at"],
            "age_days": age_days(a["recorded_at"], now),
            "override_reason": a["override_reason"],
        }
        for a in state.alerts.values()
        if a["status"] == "open"
    ]


def plan_document(state: PlanState, patient_id: str, version: int, now: datetime) -> dict[str, Any]:
    """The plan: active medications, latest scores with trend, open alerts, goals,
    scheduled follow-ups (overdue marked), the team."""
    patient = state.patient
    return {
        "patient_id": patient_id,
        "patient": {
            "id": patient_id,
            "external_id": patient.get("external_id"),
            "name": patient.get("name"),
            "birth_date": patient.get("birth_date"),
            "allergies": list(patient.get("allergies", [])),
            "sex_at_birth": patient.get("sex_at_birth"),
        },
        "version": version,
        "medications": [medication(o) for o in state.orders.values() if o["status"] == "active"],
        "assessments": latest_assessments(state),
        "alerts": open_alerts(state, now),
        "goals": [
            {
                "goal_id": g["goal_id"],
                "description": g["description"],
                "target": g["target"],
                "due_date": g["due_date"],
                "status": g["status"],
            }
            for g in state.goals.values()
        ],
        "follow_ups": [
            {
                "follow_up_id": f["follow_up_id"],
                "due_at": f["due_at"],
                "purpose": f["purpose"],
                "overdue": f["due_at"] < now,
            }
            for f in sorted(state.follow_ups.values(), key=lambda f: f["due_at"])
            if f["status"] == "scheduled"
        ],
        "care_team": [
            {
                "clinician_id": m["clinician_id"],
                "name": m["name"],
                "role": m["role"],
                "since": m["since"],
            }
            for m in state.care_team.values()
            if m["active"]
        ],
        "conditions": problem_list(state),
        "pregnancy": pregnancy_status(state),
        "pharmacogenomics": pharmacogenomic_summary(state),
    }


def pregnancy_status(state: PlanState) -> dict[str, Any] | None:
    """The latest pregnancy status, as the plan shows it."""
    status = getattr(state, "pregnancy", None)
    if not status:
        return None
    return {
        "status": status["status"],
        "as_of": status["as_of"],
        "expected_delivery_date": status["expected_delivery_date"],
        "recorded_by": status["actor"],
        "effective_at": status["effective_at"],
    }
