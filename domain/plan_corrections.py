"""Corrections: which fields of which event may be corrected, and how a correction patches
the entity the corrected event made (a changed copy in its place, marked corrected).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableSequence, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from domain.plan_entities import Source
from domain.plan_entity import Entity, Recorded
from domain.plan_records import Assessment
from domain.scoring import INSTRUMENTS

if TYPE_CHECKING:
    from domain.plan import PlanState

CORRECTABLE_FIELDS: dict[str, frozenset[str]] = {
    "PatientRegistered": frozenset({"name", "birth_date", "allergies"}),
    "MedicationPrescribed": frozenset(
        {"dose", "frequency", "route", "indication", "instructions", "effective_at"}
    ),
    "DoseChanged": frozenset({"dose", "frequency", "reason", "effective_at"}),
    "MedicationDiscontinued": frozenset({"reason", "taper", "effective_at"}),
    "AssessmentRecorded": frozenset({"item_scores", "diagnoses", "summary", "effective_at"}),
    "SideEffectReported": frozenset(
        {"order_id", "effect", "severity", "onset", "action_taken", "effective_at"}
    ),
    "AdherenceReported": frozenset({"doses_taken", "doses_missed", "period_start", "period_end"}),
    "NoteAdded": frozenset({"text", "modality", "effective_at"}),
    "FollowUpScheduled": frozenset({"due_at", "purpose"}),
    "FollowUpCompleted": frozenset({"outcome", "effective_at"}),
    "GoalSet": frozenset({"description", "target", "due_date"}),
    "ConsentRecorded": frozenset({"note", "effective_at"}),
    "LabResultRecorded": frozenset({"value", "unit", "effective_at"}),
    "EducationProvided": frozenset({"topic", "materials", "order_id"}),
    "PlanReviewed": frozenset({"outcome", "summary"}),
    "ClinicalFactRecorded": frozenset({"value", "effective_at"}),
    "PharmacogenomicResultRecorded": frozenset(
        {"diplotype", "phenotype", "lab", "report_date", "effective_at"}
    ),
}
"""Which fields of which event may be corrected. Identity (drug, instrument, note kind,
ids) is never corrected: a wrong drug is discontinued and the right one prescribed."""


class _Timed(Protocol):
    @property
    def effective_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


def effective_key(item: _Timed) -> tuple[datetime, datetime]:
    """Entries kept in effective order (ties: recorded order)."""
    return (item.effective_at, item.recorded_at)


E = TypeVar("E", bound=Entity)


def corrected(entity: E, fields: Mapping[str, object], renamed: Mapping[str, str] = {}) -> E:
    """A copy of ``entity`` with the corrected fields it has (a list becomes a tuple, as
    the fold stores it), marked corrected when it has such a mark."""
    names = {f.name for f in dataclasses.fields(entity)}  # type: ignore[arg-type]
    changes: dict[str, object] = {}
    for key, value in fields.items():
        name = renamed.get(key, key)
        if name in names:
            changes[name] = tuple(value) if isinstance(value, list) else value
    if "corrected" in names:
        changes["corrected"] = True
    return dataclasses.replace(entity, **changes)  # type: ignore[type-var]


def _at(items: Sequence[Recorded], event_id: str) -> int | None:
    return next((i for i, item in enumerate(items) if item.event_id == event_id), None)


def patch(state: PlanState, source: Source, event_id: str, fields: Mapping[str, object]) -> None:
    """Apply a correction to the entity an earlier event produced, and mark it corrected.

    Every entity touched is replaced by a changed copy (see ``domain/plan.py``)."""
    kind, key = source.kind, source.key
    if kind == "patient":
        state.patient = corrected(state.patient, fields)
    elif kind in {"order", "step", "stop"}:
        _patch_order(state, kind, key, event_id, fields)
    elif kind in {"goal", "follow_up", "note", "fact", "pharmacogenomic"}:
        by_kind: dict[str, dict[str, Any]] = {
            "goal": state.goals,
            "follow_up": state.follow_ups,
            "note": state.notes,
            "fact": state.facts,
            "pharmacogenomic": state.pharmacogenomics,
        }
        entities = by_kind[kind]
        if key in entities:
            entities[key] = corrected(entities[key], fields)
    elif kind == "follow_up_completion":
        follow_up = state.follow_ups.get(key)
        if follow_up is not None:
            state.follow_ups[key] = corrected(follow_up, fields, {"effective_at": "completed_at"})
    else:
        _patch_entry(state, kind, event_id, fields)


def _patch_entry(state: PlanState, kind: str, event_id: str, fields: Mapping[str, object]) -> None:
    """A correction of an entry kept in a list (an assessment, a lab, a consent ...)."""
    by_kind: dict[str, MutableSequence[Any]] = {
        "consent": state.consents,
        "assessment": state.assessments,
        "side_effect": state.side_effects,
        "adherence": state.adherence,
        "education": state.education,
        "review": state.reviews,
        "lab": state.labs,
    }
    collection = by_kind.get(kind)
    at = _at(collection, event_id) if collection is not None else None
    if collection is None or at is None:
        return
    target = corrected(collection[at], fields)
    if isinstance(target, Assessment) and "item_scores" in fields:
        spec = INSTRUMENTS.get(target.instrument)
        if spec is not None:
            total = sum(target.item_scores)
            target = dataclasses.replace(target, total=total, severity=spec.band(total))
    collection[at] = target
    if kind in {"assessment", "lab"}:
        state.assessments.sort(key=effective_key)
        state.labs.sort(key=effective_key)


def _patch_order(
    state: PlanState, kind: str, key: str, event_id: str, fields: Mapping[str, object]
) -> None:
    """A correction of an order's start, one of its dose changes, or its stop."""
    order = state.orders.get(key)
    if order is None:
        return
    if kind == "stop":
        renamed = {"reason": "stop_reason", "effective_at": "stopped_at"}
        state.orders[key] = corrected(order, fields, renamed)
        return
    if kind == "order":
        kept = {k: v for k, v in fields.items() if k in {"route", "indication", "instructions"}}
        order = corrected(order, kept)
        if "effective_at" in fields:
            order = dataclasses.replace(order, since=cast(datetime, fields["effective_at"]))
    else:
        order = dataclasses.replace(order, corrected=True)
    steps = list(order.steps)
    at = _at(steps, event_id)
    if at is not None:
        steps[at] = corrected(steps[at], fields)
        steps.sort(key=effective_key)
    state.orders[key] = dataclasses.replace(order, steps=tuple(steps))
