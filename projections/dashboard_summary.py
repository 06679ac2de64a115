"""What the team dashboard knows about a patient: the facts it stores as events arrive.

``summarize`` keeps only facts (open alerts, scheduled follow-ups with due times, recent
medication changes, the last two PHQ-9 scores, severe side effects), so a rebuild gives
the same rows whenever it runs; ``dashboard_ranking`` turns them into reasons and an
urgency at read time, when the clock is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.plan import PlanState
from domain.plan_entity import Author
from domain.plan_vocabulary import FollowUpStatus, OrderStatus, StepKind
from projections.plan_sections import alert_head, open_alerts
from projections.plan_states import EVERYTHING, Folded, Sections, iso, of_plan

CHANGES_KEPT = 20
SEVERE_KEPT = 10


def _by(plan: PlanState, actor: Author | None) -> dict[str, Any] | None:
    """Who made a change: id, role and, from the care team, their name."""
    if actor is None or not actor.id:
        return None
    member = plan.care_team.get(actor.id)
    return {"id": actor.id, "role": actor.role, "name": member.name if member else None}


def _changes(plan: PlanState) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for order in plan.orders.values():
        drug = order.drug["name"]
        for step in order.steps:
            dose = f"{_amount(step.dose.get('amount'))} {step.dose.get('unit', '')}"
            started = step.kind is StepKind.START
            verb = "Started" if started else "Dose changed:"
            changes.append(
                {
                    "type": "MedicationPrescribed" if started else "DoseChanged",
                    "order_id": order.order_id,
                    "at": iso(step.effective_at),
                    "message": f"{verb} {drug} {dose} {step.frequency}",
                    "by": _by(plan, step.actor),
                }
            )
        if order.status is OrderStatus.DISCONTINUED and order.stopped_at is not None:
            changes.append(
                {
                    "type": "MedicationDiscontinued",
                    "order_id": order.order_id,
                    "at": iso(order.stopped_at),
                    "message": f"Stopped {drug}",
                    "by": _by(plan, order.stopped_by),
                }
            )
    changes.sort(key=lambda c: c["at"])
    return changes[-CHANGES_KEPT:]


def _phq9(plan: PlanState) -> dict[str, Any] | None:
    phq9 = [a for a in plan.assessments if a.instrument == "PHQ-9" and a.total is not None]
    if not phq9:
        return None
    last = phq9[-1]
    return {
        "total": last.total,
        "previous": phq9[-2].total if len(phq9) > 1 else None,
        "item9": last.item_scores[8] if len(last.item_scores) > 8 else 0,
        "at": iso(last.effective_at),
    }


SCORED = ("PHQ-9", "GAD-7")
TREND_KEPT = 6


def _scores(plan: PlanState) -> dict[str, Any]:
    """The latest PHQ-9 and GAD-7: total, severity band, change and trend (oldest first)."""
    found: dict[str, Any] = {}
    for instrument in SCORED:
        scored = [a for a in plan.assessments if a.instrument == instrument and a.total is not None]
        if not scored:
            continue
        last = scored[-1]
        previous = scored[-2].total if len(scored) > 1 else None
        assert last.total is not None
        found[instrument] = {
            "total": last.total,
            "band": last.severity,
            "change": last.total - previous if previous is not None else None,
            "trend": [a.total for a in scored[-TREND_KEPT:]],
            "at": iso(last.effective_at),
        }
    return found


def _severe(plan: PlanState) -> list[dict[str, Any]]:
    drugs = {o.order_id: o.drug["name"] for o in plan.orders.values()}
    severe = sorted(
        (s for s in plan.side_effects if s.severity == "severe"), key=lambda s: s.effective_at
    )[-SEVERE_KEPT:]
    return [
        {"effect": s.effect, "at": iso(s.effective_at), "drug": drugs.get(s.order_id or "")}
        for s in severe
    ]


def _alerts(plan: PlanState) -> list[dict[str, Any]]:
    return [
        {**alert_head(a), "raised_at": iso(a.recorded_at), "due_at": iso(a.due_at)}
        for a in open_alerts(plan)
    ]


def _follow_ups(plan: PlanState) -> list[dict[str, Any]]:
    return [
        {"id": f.follow_up_id, "due_at": iso(f.due_at), "purpose": f.purpose}
        for f in plan.follow_ups.values()
        if f.status is FollowUpStatus.SCHEDULED
    ]


MEDICATION = {"changes", "severe_side_effects"}
SUMMARY = Sections(
    renderers={
        "alerts": of_plan(_alerts),
        "follow_ups": of_plan(_follow_ups),
        "changes": of_plan(_changes),
        "phq9": of_plan(_phq9),
        "scores": of_plan(_scores),
        "severe_side_effects": of_plan(_severe),
    },
    affects={
        "SafetyAlertRaised": {"alerts"},
        "SafetyAlertResolved": {"alerts"},
        "FollowUpScheduled": {"follow_ups"},
        "FollowUpCompleted": {"follow_ups"},
        "MedicationPrescribed": MEDICATION,
        "DoseChanged": MEDICATION,
        "MedicationDiscontinued": MEDICATION,
        "AssessmentRecorded": {"phq9", "scores"},
        "SideEffectReported": {"severe_side_effects"},
        "PatientRegistered": set(),
        "CareTeamMemberAssigned": set(),
        "CareTeamMemberRemoved": set(),
        "EmergencyAccessGranted": set(),
        "ConsentRecorded": set(),
        "GoalSet": set(),
        "GoalStatusChanged": set(),
        "AdherenceReported": set(),
        "NoteAdded": set(),
        "EducationProvided": set(),
        "PlanReviewed": set(),
        "LabResultRecorded": set(),
        "ClinicalFactRecorded": set(),
        "ConditionRecorded": set(),
        "ConditionResolved": set(),
        "SexAtBirthRecorded": set(),
        "PregnancyStatusRecorded": set(),
        "PharmacogenomicResultRecorded": set(),
        "EntryCorrected": EVERYTHING,  # a correction can change any part
    },
)
"""The stored facts: which event types can change which of them, for every event type
(``tests/unit/test_event_handlers.py``; a type not listed recomputes them all)."""


def summary_json(patient_id: str, folded: Folded, kinds: Sequence[str] | None = None) -> str:
    """The facts the dashboard ranks by, as stored (times as text)."""
    return SUMMARY.encode(patient_id, folded, kinds)


def summarize(plan: PlanState) -> dict[str, Any]:
    """The facts the dashboard ranks by, from a folded plan (times as text)."""
    return {part: render("", plan) for part, render in SUMMARY.renderers.items()}


def _amount(value: Any) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)
