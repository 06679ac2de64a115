"""Titration schedules: how fast a drug may go up from its start.

Lamotrigine's rash risk (SJS/TEN) depends on the starting dose and the escalation rate,
so each dose is compared with the weekly schedule for the weeks since the titration
began: the standard one, half of it with valproate, a faster one with enzyme inducers.
A new course soon after the previous one stopped continues that titration; after the
restart gap (about five half-lives) the schedule starts again from week 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.safety.conditions import Condition, holds, read_condition
from domain.safety.context import Finding
from domain.safety.frequency import readable_daily_mg
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import day, finding, mg, stamp

SCHEDULE_PLACEHOLDERS = {"drug", "dose", "week", "allowed", "schedule", "restart"}


@dataclass(frozen=True)
class WeeklySchedule(PackRule):
    """The most a drug may be in each week since the titration began."""

    drug: str
    name: str  # "the standard schedule"
    when: Condition | None  # which patients the schedule is for
    weeks: tuple[tuple[int, float], ...]  # (from week, max mg/day), ascending
    restart_after_days: float
    restart_note: str  # appended when a new course restarts the titration


def read_weekly(record: Record, rule_id: str, vocabulary: Vocabulary) -> WeeklySchedule:
    rule = record.rule(rule_id, SCHEDULE_PLACEHOLDERS)
    note = record.template("restart_note", {"drug", "days", "gap", "date"})
    weeks = []
    for row in record.records("schedule"):
        weeks.append((int(row.number("from_week")), row.number("max_mg_per_day")))
    if not weeks or weeks[0][0] != 1 or [w for w, _ in weeks] != sorted({w for w, _ in weeks}):
        raise record.fail("schedule", "must start at week 1 with weeks in ascending order")
    return WeeklySchedule(
        rule=rule,
        drug=drug_name(record, vocabulary),
        name=record.text("name"),
        when=read_condition(record.child("when"), vocabulary) if record.has("when") else None,
        weeks=tuple(weeks),
        restart_after_days=record.number("restart_after_days"),
        restart_note=note,
    )


def drug_name(record: Record, vocabulary: Vocabulary) -> str:
    drug = record.text("drug")
    if drug not in vocabulary.drugs:
        raise record.fail("drug", f"names an unknown drug {drug!r}")
    return drug


def step_mg(course: Course, index: int) -> float | None:
    return readable_daily_mg(course.steps[index])


def changed_step(view: PlanView, course: Course) -> int:
    """Index of the step the change wrote (the last one with its effective time)."""
    at = [i for i, s in enumerate(course.steps) if s.effective_at == view.change.effective_at]
    return at[-1] if at else len(course.steps) - 1


def titration_start(
    view: PlanView, course: Course, restart_after_days: float
) -> tuple[datetime, tuple[Course, float] | None]:
    """When the titration this course belongs to began, and, if the course restarts it,
    the earlier course and the days off in between. A course continuing established
    therapy began its titration at the therapy's true start, long done."""
    if course.continuing_since is not None:
        return course.continuing_since, None
    start = course.start
    assert start is not None
    gap = timedelta(days=restart_after_days)
    earlier = [
        c for c in view.courses
        if c.drug == course.drug and c.order_id != course.order_id and c.start is not None
        and c.start < start
    ]  # fmt: skip
    continued = [c for c in earlier if c.stopped_at is None or start - c.stopped_at < gap]
    if continued:
        return titration_start(view, continued[0], restart_after_days)[0], None
    stopped = [c for c in earlier if c.stopped_at is not None]
    if stopped:
        last = max(stopped, key=lambda c: (c.stopped_at or start, c.order_id))
        assert last.stopped_at is not None
        return start, (last, (start - last.stopped_at).total_seconds() / 86400)
    return start, None


def schedule_for(
    rules: tuple[WeeklySchedule, ...], view: PlanView, drug: str
) -> WeeklySchedule | None:
    return next(
        (r for r in rules
         if r.drug == drug and (r.when is None or holds(r.when, view, drug) is not None)),
        None,
    )  # fmt: skip


def titrated_course(view: PlanView) -> Course | None:
    """The course a titration rule judges after this change: one just prescribed or whose
    dose changed, with its steps, and not continuing established therapy (its titration is
    long done); None for any other change."""
    change = view.change
    course = view.course(change.order_id)
    if change.kind not in ("prescribed", "dose_changed") or course is None or not course.steps:
        return None
    if change.kind == "prescribed" and course.continuing_since is not None:
        return None
    return course


def titration_finding(rule: PackRule, course: Course, message: str, view: PlanView) -> Finding:
    """A titration rule's finding on the course this change titrated, keyed by the change."""
    return finding(
        rule.rule,
        "titration",
        [course.order_id],
        message,
        key_parts=(stamp(view.change.effective_at),),
    )


def check_weekly(rules: tuple[WeeklySchedule, ...], view: PlanView) -> list[Finding]:
    change = view.change
    course = titrated_course(view)
    if course is None:
        return []
    rule = schedule_for(rules, view, course.drug)
    if rule is None:
        return []
    index = changed_step(view, course) if change.kind == "dose_changed" else 0
    dose = step_mg(course, index)
    before = step_mg(course, index - 1) if index > 0 else None
    if dose is None or (before is not None and dose <= before):
        return []  # only starts and increases can outpace the schedule
    others = [
        step_mg(c, -1) or 0.0
        for c in view.active
        if c.drug == course.drug and c.order_id != course.order_id and c.steps
    ]
    dose += sum(others)
    began, restarted = titration_start(view, course, rule.restart_after_days)
    week = int((course.steps[index].effective_at - began).total_seconds() // (7 * 86400)) + 1
    allowed = [limit for from_week, limit in rule.weeks if from_week <= max(week, 1)][-1]
    if dose <= allowed + 1e-6:
        return []
    note = ""
    if restarted is not None:
        earlier, days_off = restarted
        assert earlier.stopped_at is not None
        note = " " + rule.restart_note.format(
            drug=course.label,
            days=mg(days_off),
            gap=mg(rule.restart_after_days),
            date=day(earlier.stopped_at),
        )
    message = rule.rule.message.format(
        drug=course.label,
        dose=mg(dose),
        week=week,
        allowed=mg(allowed),
        schedule=rule.name,
        restart=note,
    )
    return [titration_finding(rule, course, message, view)]
