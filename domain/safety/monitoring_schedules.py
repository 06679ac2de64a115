"""When the next check of one test is due for one course, under four kinds of schedule.

* ``after_events``: a check some days after each start, dose change, or start/stop of an
  interacting drug (a lithium level 5-7 days later). Met by a result after the last event.
* ``rolling``: a baseline, then every N days after the last result, N depending on the
  time on treatment (clozapine ANC: weekly, then every 2 weeks, then monthly).
* ``milestones``: a baseline and fixed weeks from the start, then a regular interval
  (ADA/APA metabolic monitoring: weight at weeks 4, 8, 12, then quarterly). A result up
  to ``tolerance_days`` before a milestone counts for it.
* ``baseline``: once, before the start (an ECG before ziprasidone).

Only the next due check is returned: the horizon is one item per test per course.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.safety.matching import Side, read_side
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import Record, Vocabulary
from domain.safety.wording import day, mg

EVENTS = ("start", "dose_change", "partner_start", "partner_stop")


@dataclass(frozen=True)
class AfterEvents:
    events: frozenset[str]
    partner: Side | None
    from_days: float
    due_days: float


@dataclass(frozen=True)
class Phase:
    until_day: float | None
    every_days: float
    label: str  # "weekly in the first 6 months"


@dataclass(frozen=True)
class Rolling:
    baseline: bool
    lookback_days: float
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class Milestones:
    baseline: bool
    lookback_days: float
    days: tuple[float, ...]
    then_every_days: float | None
    tolerance_days: float


@dataclass(frozen=True)
class Baseline:
    lookback_days: float | None  # None: a result from any time before counts


Schedule = AfterEvents | Rolling | Milestones | Baseline


@dataclass(frozen=True)
class Due:
    at: datetime
    reason: str
    order_ids: tuple[str, ...] = ()  # other orders involved (the interacting drug)


def read_schedule(record: Record, vocabulary: Vocabulary) -> Schedule:
    kind = record.choice("type", ("after_events", "rolling", "milestones", "baseline"))
    if kind == "after_events":
        events = record.names("events", frozenset(EVENTS), "event")
        partner = read_side(record.child("partner"), vocabulary) if record.has("partner") else None
        if partner is None and {"partner_start", "partner_stop"} & set(events):
            raise record.fail("partner", "is needed for partner events")
        return AfterEvents(
            frozenset(events), partner, record.number("from_days"), record.number("due_days")
        )
    if kind == "baseline":
        lookback = record.number("lookback_days") if record.has("lookback_days") else None
        return Baseline(lookback)
    baseline, lookback = record.flag("baseline", False), record.number("lookback_days", 0)
    if kind == "rolling":
        phases = tuple(
            Phase(
                p.number("until_day") if p.has("until_day") else None,
                p.number("every_days"),
                p.text("label"),
            )
            for p in record.records("phases")
        )
        if not phases or phases[-1].until_day is not None:
            raise record.fail("phases", "must end with an open phase (no until_day)")
        return Rolling(baseline, lookback, phases)
    days = record.numbers("days")
    then = record.number("then_every_days") if record.has("then_every_days") else None
    if then == 0:
        raise record.fail("then_every_days", "must be positive")
    return Milestones(baseline, lookback, days, then, record.number("tolerance_days", 0))


def _events(schedule: AfterEvents, view: PlanView, course: Course) -> list[Due]:
    start = course.start
    assert start is not None
    found: list[Due] = []
    if "start" in schedule.events:
        found.append(Due(start, f"the start on {day(start)}"))
    if "dose_change" in schedule.events:
        found += [
            Due(s.effective_at, f"the dose change on {day(s.effective_at)}")
            for s in course.steps[1:]
        ]
    end = course.stopped_at
    for other in view.courses:
        if (
            schedule.partner is None
            or other.order_id == course.order_id
            or not schedule.partner.matches(other)
        ):
            continue
        for event, at, verb in (
            ("partner_start", other.start, "started"),
            ("partner_stop", other.stopped_at, "stopped"),
        ):
            if (
                event in schedule.events
                and at is not None
                and start <= at
                and (end is None or at < end)
            ):
                found.append(Due(at, f"{other.label} was {verb} on {day(at)}", (other.order_id,)))
    return found


def _after_events(
    schedule: AfterEvents, view: PlanView, course: Course, results: Sequence[datetime]
) -> Due | None:
    events = _events(schedule, view, course)
    if not events:
        return None
    last = max(events, key=lambda e: (e.at, e.reason))
    if any(r > last.at for r in results):
        return None
    window = f"{mg(schedule.from_days)}-{mg(schedule.due_days)} days after {last.reason}"
    return Due(last.at + timedelta(days=schedule.due_days), window, last.order_ids)


def _rolling(schedule: Rolling, start: datetime, results: Sequence[datetime]) -> Due:
    if not results:
        if schedule.baseline:
            return Due(start, f"a baseline before the start on {day(start)}")
        phase = schedule.phases[0]
        return Due(
            start + timedelta(days=phase.every_days), f"{phase.label} (started {day(start)})"
        )
    last = results[-1]
    on_treatment = (last - start).total_seconds() / 86400
    phase = next(p for p in schedule.phases if p.until_day is None or on_treatment < p.until_day)
    return Due(last + timedelta(days=phase.every_days), f"{phase.label} (last result {day(last)})")


def _offsets(schedule: Milestones) -> Iterator[float]:
    """Days from the start of each milestone, then of each regular check after them."""
    yield from schedule.days
    if schedule.then_every_days is not None:
        offset = max(schedule.days, default=0.0)
        while True:
            offset += schedule.then_every_days
            yield offset


def _continuing(since: datetime, taken_over: datetime) -> Due:
    """A continuing course with no result on record: the current value is due when the
    order takes over (nothing says when it was last checked), then the schedule runs on
    from the therapy's true start."""
    return Due(
        taken_over,
        f"no result on record since this order of {day(taken_over)} "
        f"(on treatment since {day(since)})",
    )


def _milestones(
    schedule: Milestones,
    start: datetime,
    results: Sequence[datetime],
    taken_over: datetime | None = None,
) -> Due | None:
    """``taken_over``: a continuing course's order date: no baseline, and without a result
    the current value is due then, while the schedule still runs."""
    if schedule.baseline and not results and taken_over is None:
        return Due(start, f"a baseline before the start on {day(start)}")
    done = results[-1] + timedelta(days=schedule.tolerance_days) if results else None
    if done is None and taken_over is not None:
        still = next(
            (o for o in _offsets(schedule) if start + timedelta(days=o) >= taken_over), None
        )
        if still is None:
            return None
        return _continuing(start, taken_over)
    for offset in _offsets(schedule):
        point = start + timedelta(days=offset)
        if done is None or point > done:
            return Due(point, f"week {mg(offset / 7)} of treatment (started {day(start)})")
    return None


def next_due(
    schedule: Schedule, view: PlanView, course: Course, results: Sequence[datetime]
) -> Due | None:
    """The next check this schedule asks for, or None when nothing more is due.

    A course continuing established therapy is judged from its true start: no baseline
    (that was before the therapy began, elsewhere), and the schedule's phase is the one
    the therapy is in (a transfer stable on clozapine for years is on monthly ANCs)."""
    taken_over = course.start
    if taken_over is None:
        return None
    if isinstance(schedule, AfterEvents):
        return _after_events(schedule, view, course, results)
    since = course.continuing_since
    start = since or taken_over
    lookback = schedule.lookback_days or 0.0
    if isinstance(schedule, Baseline) and schedule.lookback_days is None:
        counted = list(results)
    else:
        counted = [r for r in results if r >= start - timedelta(days=lookback)]
    if isinstance(schedule, Baseline):
        if since is not None:
            return None
        return None if counted else Due(start, f"a baseline before the start on {day(start)}")
    if isinstance(schedule, Rolling):
        if since is not None and not counted:
            return _continuing(since, taken_over)
        return _rolling(schedule, start, counted)
    return _milestones(schedule, start, counted, taken_over if since is not None else None)
