"""Medication trials read off the folded plan: what was tried, at what dose, for how long.

A trial is one drug from its start to its stop, dose changes inside it. Orders of the same
drug that follow each other without a gap (a re-prescription the same or the next day)
are one trial; a restart after a longer gap is a new trial. A continuing therapy (an
order with ``continuing.since``) starts on its true start, at the dose first recorded.

``trials(plan)`` is clock-free: what the record says. ``trial_outcomes.judge`` adds what
depends on the clock (days at an adequate dose of a trial still running). The view, the
API under both clocks and the tests all call these two, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict

from domain.adequate_doses import AdequateDose, adequate_doses
from domain.continuing import since_of
from domain.plan_entities import Continuing, Order
from domain.plan_entities import DoseStep as PlanDoseStep
from domain.safety.context import DoseStep
from domain.safety.drugs import normalise_name
from domain.safety.frequency import FrequencyError, as_needed, daily_mg
from domain.safety.measurement_care import ANTIDEPRESSANT_CLASSES
from domain.safety.pack import default_pack

if TYPE_CHECKING:
    from domain.plan import PlanState

GAP = timedelta(days=1)
"""A new order of the same drug starting more than this after the last stop is a restart."""
BASELINE_WINDOW = timedelta(days=30)


def window_start(start: datetime) -> datetime:
    """``start`` less the baseline window, clamped at the earliest representable time: an
    entry of an old log may sit in year 1, and a read must never fail on a stored value."""
    try:
        return start - BASELINE_WINDOW
    except OverflowError:
        return datetime.min.replace(tzinfo=start.tzinfo)


_ANXIETY_WORDS = ("anxiety", "panic", "gad", "phobia", "worry")


@dataclass(frozen=True)
class Step:
    effective_at: datetime
    amount: float
    unit: str
    frequency: str
    mg_per_day: float | None  # None: not a mass unit, or a frequency not read with confidence

    @property
    def as_needed(self) -> bool:
        """Taken only when needed (PRN): ``mg_per_day`` is the most that may be taken in a
        day, not what was taken."""
        return as_needed(self.frequency)


class Adherence(TypedDict):
    """The adherence reported over a trial's orders, summed."""

    reports: int
    doses_taken: int
    doses_missed: int
    percent_taken: float | None


class SideEffectSeen(TypedDict):
    """A side effect reported on a trial's orders (or while it ran, tied to no order)."""

    effect: str
    severity: str
    effective_at: datetime


@dataclass(frozen=True)
class Score:
    total: int
    effective_at: datetime


@dataclass(frozen=True)
class Trial:
    """One trial as the record states it (see the module docstring)."""

    trial_id: str  # the first order's id
    order_ids: tuple[str, ...]
    drug: str  # the pack's generic name, or the name as typed when the pack lacks it
    drug_class: str | None  # the pack's class label ("SSRI"), None when unknown
    antidepressant: bool
    indication: str | None
    started_at: datetime  # the true start (a continuing therapy's ``since``)
    stopped_at: datetime | None
    stop_reason: str | None
    continuing: Continuing | None
    steps: tuple[Step, ...]
    adequate_dose: AdequateDose | None
    adherence: Adherence
    side_effects: tuple[SideEffectSeen, ...]
    instrument: str | None  # "PHQ-9" | "GAD-7" | None (nothing to measure it by)
    baseline: Score | None
    scores: tuple[Score, ...] = field(default=())  # during the trial, in effective order

    @property
    def highest_mg_per_day(self) -> float | None:
        """The highest daily dose; for an as-needed step, its daily maximum."""
        known = [s.mg_per_day for s in self.steps if s.mg_per_day is not None]
        return max(known) if known else None

    @property
    def as_needed(self) -> bool:
        """Every step was as needed (PRN): no daily dose was prescribed, only a maximum."""
        return bool(self.steps) and all(s.as_needed for s in self.steps)

    @property
    def highest_regular_mg_per_day(self) -> float | None:
        """The highest daily dose of the steps taken regularly (not as needed)."""
        known = [s.mg_per_day for s in self.steps if s.mg_per_day is not None and not s.as_needed]
        return max(known) if known else None


def _class_of(drug: str) -> tuple[str, str | None, bool]:
    pack = default_pack()
    info = pack.drug(drug)
    if info is None:
        return normalise_name(drug), None, False
    ad = [c for c in ANTIDEPRESSANT_CLASSES if c in info.classes]
    chosen = ad[0] if ad else (sorted(info.classes)[0] if info.classes else None)
    label = pack.classes[chosen].label if chosen and chosen in pack.classes else None
    return info.name, label, bool(ad)


def _instrument(antidepressant: bool, indication: str | None) -> str | None:
    text = (indication or "").lower()
    if any(word in text for word in _ANXIETY_WORDS) and "depress" not in text:
        return "GAD-7"
    if antidepressant or "depress" in text:
        return "PHQ-9"
    return None


def _step(raw: PlanDoseStep) -> Step:
    amount, unit, frequency = float(raw.dose["amount"]), str(raw.dose["unit"]), raw.frequency
    try:
        mg = daily_mg(DoseStep(raw.effective_at, amount, unit, frequency))
    except FrequencyError:
        mg = None
    return Step(raw.effective_at, amount, unit, frequency, mg)


def _start_of(order: Order) -> datetime:
    since: date | None = since_of(order.continuing)
    first = order.steps[0].effective_at if order.steps else order.since
    if since is not None:
        return min(first, datetime.combine(since, time(0), tzinfo=UTC))
    return first


def _groups(orders: Iterable[Order]) -> list[list[Order]]:
    """Orders by drug, chained into trials: same drug, no gap longer than ``GAP``."""
    by_drug: dict[str, list[Order]] = {}
    for order in orders:
        if not order.steps:
            continue
        by_drug.setdefault(_class_of(order.drug_name)[0], []).append(order)
    groups: list[list[Order]] = []
    for chain in by_drug.values():
        chain.sort(key=lambda o: (_start_of(o), o.order_id))
        current: list[Order] = []
        for order in chain:
            stops = [o.stopped_at for o in current]
            open_ = any(s is None for s in stops)
            if current and (open_ or _start_of(order) <= max(s for s in stops if s) + GAP):
                current.append(order)
            else:
                if current:
                    groups.append(current)
                current = [order]
        groups.append(current)
    return groups


def _scores(plan: PlanState, instrument: str | None) -> list[Score]:
    if instrument is None:
        return []
    return [
        Score(a.total, a.effective_at)
        for a in plan.assessments
        if a.instrument == instrument and a.total is not None
    ]


def _trial(plan: PlanState, orders: list[Order]) -> Trial:
    first, last = orders[0], orders[-1]
    drug, label, antidepressant = _class_of(first.drug_name)
    start = _start_of(first)
    stops = [o.stopped_at for o in orders]
    stopped = None if any(s is None for s in stops) else max(s for s in stops if s)
    ids = tuple(o.order_id for o in orders)
    steps = sorted((_step(s) for o in orders for s in o.steps), key=lambda s: s.effective_at)
    instrument = _instrument(antidepressant, first.indication)
    scores = _scores(plan, instrument)
    before = [s for s in scores if window_start(start) <= s.effective_at <= start]
    during = tuple(
        s
        for s in scores
        if s.effective_at > start and (stopped is None or s.effective_at <= stopped)
    )
    taken = missed = reports = 0
    for a in plan.adherence:
        if a.order_id in ids:
            reports += 1
            taken += int(a.doses_taken or 0)
            missed += int(a.doses_missed or 0)
    effects = tuple(
        SideEffectSeen(effect=s.effect, severity=s.severity, effective_at=s.effective_at)
        for s in plan.side_effects
        if s.order_id in ids
        or (
            not s.order_id
            and start <= s.effective_at
            and (stopped is None or s.effective_at <= stopped)
        )
    )
    return Trial(
        trial_id=first.order_id,
        order_ids=ids,
        drug=drug,
        drug_class=label,
        antidepressant=antidepressant,
        indication=first.indication,
        started_at=start,
        stopped_at=stopped,
        stop_reason=last.stop_reason if stopped is not None else None,
        continuing=first.continuing,
        steps=tuple(steps),
        adequate_dose=adequate_doses().get(drug),
        adherence={
            "reports": reports,
            "doses_taken": taken,
            "doses_missed": missed,
            "percent_taken": round(100 * taken / (taken + missed), 1) if taken + missed else None,
        },
        side_effects=effects,
        instrument=instrument,
        baseline=before[-1] if before else None,
        scores=during,
    )


def trials(plan: PlanState) -> list[Trial]:
    """Every trial in the folded plan, oldest start first (ties by trial id)."""
    found = [_trial(plan, group) for group in _groups(plan.orders.values())]
    return sorted(found, key=lambda t: (t.started_at, t.trial_id))
