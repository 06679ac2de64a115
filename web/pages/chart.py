"""What the patient chart shows, read from a folded plan: each medication's daily dose over
time, PHQ-9 and GAD-7 totals, safety alerts and side effects, all on the clinical
(effective) time axis; an alert at the clinical time of the entry that raised it.

The chart is drawn from whichever ``PlanState`` the page shows (now, or as known at a
chosen moment), so the "as of" control redraws it from the same fold the plan comes from.
Psychotherapy notes are never part of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.plan import PlanState
from domain.plan_entities import DoseStep
from domain.plan_entity import Recorded
from domain.safety.frequency import FrequencyError, as_needed, doses_per_day

SCORED = ("PHQ-9", "GAD-7")
"""Instruments drawn on the score panel (their totals share one 0-27 scale)."""


@dataclass(frozen=True)
class Point:
    """One value at one clinical time."""

    at: datetime
    value: float
    label: str
    corrected: bool = False


@dataclass
class DoseSeries:
    """One medication order's daily dose: a point per start and per dose change."""

    order_id: str
    drug: str
    unit: str
    points: list[Point]
    stopped_at: datetime | None
    per_dose: bool = False  # a frequency could not be read: the amount per dose is drawn
    as_needed: bool = False  # PRN: the amount per dose it may be taken at, not a daily dose


@dataclass(frozen=True)
class Marker:
    """A safety alert or a side effect, marked at the time it applied."""

    at: datetime
    kind: str  # "alert" or "side_effect"
    severity: str
    label: str
    open: bool = False


@dataclass
class ChartData:
    doses: list[DoseSeries] = field(default_factory=list)
    scores: dict[str, list[Point]] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)

    def times(self) -> list[datetime]:
        times = [p.at for s in self.doses for p in s.points]
        times += [s.stopped_at for s in self.doses if s.stopped_at is not None]
        times += [p.at for points in self.scores.values() for p in points]
        times += [m.at for m in self.markers]
        return times

    @property
    def empty(self) -> bool:
        return not self.times()


def daily_dose(step: DoseStep) -> tuple[float, bool]:
    """Amount x doses a day, and whether the frequency had to be left out (unreadable)."""
    amount = as_float(step.dose["amount"])
    try:
        return amount * doses_per_day(str(step.frequency)), False
    except FrequencyError:
        return amount, True


def as_float(value: Any) -> float:
    """A stored number as a float to draw; one no float holds (an old log's 10**400, or
    not a number at all) is infinity, which the layout draws at the top of its axis."""
    try:
        return float(value)
    except (OverflowError, TypeError, ValueError):
        return math.inf


def chart_data(state: PlanState) -> ChartData:
    data = ChartData()
    for order in sorted(state.orders.values(), key=lambda o: (o.since, o.order_id)):
        points, per_dose = [], False
        unit = str(order.steps[0].dose.get("unit", "")) if order.steps else ""
        # An as-needed order is drawn as what may be taken per dose: its daily "dose" is a
        # ceiling the patient may never reach, not a steady intake.
        prn = any(as_needed(str(step.frequency)) for step in order.steps)
        for step in order.steps:
            value, unread = (as_float(step.dose["amount"]), False) if prn else daily_dose(step)
            per_dose = per_dose or unread
            verb = "started" if step.kind == "start" else "changed to"
            text = (
                f"{order.drug['name']} {verb} {step.dose['amount']:g} "
                f"{step.dose.get('unit', '')} {step.frequency}"
                + ("" if unread or prn else f" = {value:g} {unit}/day")
            )
            points.append(Point(step.effective_at, value, text, bool(step.corrected)))
        data.doses.append(
            DoseSeries(
                order.order_id,
                order.drug["name"],
                unit,
                points,
                order.stopped_at,
                per_dose,
                prn,
            )
        )
    for instrument in SCORED:
        points = [
            Point(
                a.effective_at,
                as_float(a.total),
                f"{instrument} {a.total} ({a.severity or 'no band'})",
                bool(a.corrected),
            )
            for a in state.assessments
            if a.instrument == instrument and a.total is not None
        ]
        if points:
            data.scores[instrument] = points
    applied = _entry_times(state)
    for alert in state.alerts.values():
        if alert.kind == "reassessment_due":  # a dated reminder, not a safety event
            continue
        data.markers.append(
            Marker(
                applied.get(alert.recorded_at, alert.effective_at),
                "alert",
                alert.severity,
                f"{alert.severity} alert: {alert.message}",
                alert.status == "open",
            )
        )
    for effect in state.side_effects:
        data.markers.append(
            Marker(
                effect.effective_at,
                "side_effect",
                effect.severity,
                f"Side effect: {effect.effect} ({effect.severity})",
            )
        )
    data.markers.sort(key=lambda m: m.at)
    return data


def _entry_times(state: PlanState) -> dict[datetime, datetime]:
    """When each charted entry applied, by when it was recorded.

    An alert is recorded by the write that raised it (one command, one recorded time) but
    dated when it was raised: a PHQ-9 entered late, or a dose change back-dated, raises an
    alert that applied at the entry's own clinical time, so that is where it is marked.
    """
    entries: list[Recorded] = [step for order in state.orders.values() for step in order.steps]
    entries += [*state.assessments, *state.side_effects]
    return {e.recorded_at: e.effective_at for e in entries}
