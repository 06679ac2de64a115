"""How the safety rules see a write: the kind of change, its clinical time, the order or
fact it touched, and (for a correction) the corrected entry's own kind of change."""

from __future__ import annotations

from typing import Any

from domain.patient_record import PatientRecord
from domain.plan_records import Assessment, Fact, Lab, SideEffect


def describe_change(kind: str, record: PatientRecord, previous_facts: dict[str, Fact]) -> Any:
    """The safety rules' view of the write just decided on ``record``."""
    from domain.safety import Change

    event = record.pending_events[-1]
    order_id = getattr(event, "order_id", None)
    fact = getattr(event, "fact", None)
    previous = previous_facts.get(fact) if fact else None
    return Change(
        kind=kind,
        effective_at=event.effective_at,  # type: ignore[attr-defined]
        order_id=order_id,
        fact=fact,
        previous_value=previous.value if previous else None,
    )


CORRECTED_KINDS = {
    "order": "prescribed",
    "step": "dose_changed",
    "stop": "discontinued",
    "assessment": "assessment",
    "side_effect": "side_effect",
    "lab": "lab",
    "fact": "fact",
    "pharmacogenomic": "pharmacogenomic",
}
"""The safety Change kind of the entry a correction patches (its ``sources`` kind)."""


def describe_correction(record: PatientRecord, previous_facts: dict[str, Fact]) -> Any:
    """A correction as the rules see it: the corrected entry's own kind of change, at its
    (corrected) effective time, so that the rules that entry ran (suicide-risk item,
    titration, taper, washout ...) run again over the corrected plan. A correction of an
    entry no rule reads (a note, a goal) is checked against the plan's state only."""
    from domain.safety import Change

    event = record.pending_events[-1]
    plan = record.plan
    corrected = getattr(event, "corrected_event_id", None)
    source = plan.sources.get(corrected) if isinstance(corrected, str) else None
    kind = CORRECTED_KINDS.get(source.kind) if source else None
    effective_at, order_id, fact, previous = None, None, None, None
    if source is not None and kind is not None:
        key = source.key
        if kind in ("prescribed", "dose_changed", "discontinued"):
            order = plan.orders.get(key)
            order_id = key
            if order is not None and kind == "discontinued":
                effective_at = order.stopped_at
            elif order is not None:
                step = next((s for s in order.steps if s.event_id == corrected), None)
                effective_at = step.effective_at if step else None
        elif kind == "fact":
            fact = key
            effective_at = plan.facts[key].effective_at if key in plan.facts else None
            before = previous_facts.get(key)
            previous = before.value if before else None
        elif kind == "pharmacogenomic":
            result = plan.pharmacogenomics.get(key)
            effective_at = result.effective_at if result else None
        else:
            by_kind: dict[str, list[Assessment] | list[SideEffect] | list[Lab]] = {
                "assessment": plan.assessments,
                "side_effect": plan.side_effects,
                "lab": plan.labs,
            }
            entries: list[Assessment | SideEffect | Lab] = list(by_kind[kind])
            entry = next((e for e in entries if e.event_id == corrected), None)
            effective_at = entry.effective_at if entry else None
            order_id = getattr(entry, "order_id", None) if entry else None
    if kind is None or effective_at is None:
        return Change(kind="correction", effective_at=event.effective_at, correction=True)  # type: ignore[attr-defined]
    return Change(
        kind=kind,
        effective_at=effective_at,
        order_id=order_id,
        fact=fact,
        previous_value=previous,
        correction=True,
    )
