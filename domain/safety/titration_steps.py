"""Titration by step size and spacing: clozapine's slow start, aripiprazole's steady state.

Clozapine starts at 12.5 mg once or twice daily and goes up by at most 50 mg/day a step in
the first two weeks, then by at most 100 mg a step, once or twice a week: faster risks
orthostatic collapse, syncope and seizures. After an interruption of 2 days or more it is
titrated again from the start. Aripiprazole takes about two weeks to reach steady state,
so a dose is not raised again within 14 days of the previous change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.safety.context import Finding
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, Vocabulary, check_template
from domain.safety.titration import (
    changed_step,
    drug_name,
    step_mg,
    titrated_course,
    titration_finding,
    titration_start,
)
from domain.safety.wording import mg

START_PLACEHOLDERS = {"drug", "dose", "single", "limit", "limit_single"}
STEP_PLACEHOLDERS = {"drug", "before", "after", "increase", "limit", "day"}
SPACING_PLACEHOLDERS = {"drug", "count", "limit"}
INTERVAL_PLACEHOLDERS = {"drug", "before", "after", "days", "min_days"}


@dataclass(frozen=True)
class Phase:
    until_day: float | None  # None: from the previous phase on
    max_increase: float  # mg/day per step
    max_increases_per_week: int | None


@dataclass(frozen=True)
class StepLimits(PackRule):
    """A start dose and per-phase step sizes (clozapine)."""

    drug: str
    start_max_mg_per_day: float
    start_max_single_mg: float
    phases: tuple[Phase, ...]
    restart_after_days: float
    start_message: str
    spacing_message: str


@dataclass(frozen=True)
class MinInterval(PackRule):
    """The least time between a change and the next increase (aripiprazole)."""

    drug: str
    min_days: float


def read_step_limits(record: Record, rule_id: str, vocabulary: Vocabulary) -> StepLimits:
    rule = record.rule(rule_id, STEP_PLACEHOLDERS)
    start, spacing = record.text("start_message"), record.text("spacing_message")
    check_template(record, "start_message", start, START_PLACEHOLDERS)
    check_template(record, "spacing_message", spacing, SPACING_PLACEHOLDERS)
    phases = []
    for row in record.records("phases"):
        until = row.number("until_day") if row.has("until_day") else None
        per_week = (
            row.number("max_increases_per_week") if row.has("max_increases_per_week") else None
        )
        phases.append(
            Phase(
                until,
                row.number("max_increase_mg_per_day"),
                None if per_week is None else int(per_week),
            )
        )
    if not phases or phases[-1].until_day is not None:
        raise record.fail("phases", "must end with an open phase (no until_day)")
    return StepLimits(
        rule,
        drug_name(record, vocabulary),
        record.number("start_max_mg_per_day"),
        record.number("start_max_single_mg"),
        tuple(phases),
        record.number("restart_after_days"),
        start,
        spacing,
    )


def read_min_interval(record: Record, rule_id: str, vocabulary: Vocabulary) -> MinInterval:
    rule = record.rule(rule_id, INTERVAL_PLACEHOLDERS)
    return MinInterval(rule, drug_name(record, vocabulary), record.number("min_days"))


def _increases(course: Course, upto: int) -> list[int]:
    """Indexes of the steps up to ``upto`` that raised the daily dose."""
    found = []
    for i in range(1, upto + 1):
        before, after = step_mg(course, i - 1), step_mg(course, i)
        if before is not None and after is not None and after > before:
            found.append(i)
    return found


def _step_limits(rule: StepLimits, view: PlanView, course: Course) -> str | None:
    began, _ = titration_start(view, course, rule.restart_after_days)
    if view.change.kind == "prescribed":
        dose, single = step_mg(course, 0), course.steps[0].amount
        if began != course.start or dose is None:
            return None  # continues an earlier course: no new start
        if dose > rule.start_max_mg_per_day + 1e-6 or single > rule.start_max_single_mg + 1e-6:
            return rule.start_message.format(
                drug=course.label,
                dose=mg(dose),
                single=mg(single),
                limit=mg(rule.start_max_mg_per_day),
                limit_single=mg(rule.start_max_single_mg),
            )
        return None
    index = changed_step(view, course)
    if index not in _increases(course, index):
        return None
    before, after = step_mg(course, index - 1) or 0.0, step_mg(course, index) or 0.0
    at = course.steps[index].effective_at
    days = (at - began).total_seconds() / 86400
    phase = next(p for p in rule.phases if p.until_day is None or days < p.until_day)
    if after - before > phase.max_increase + 1e-6:
        return rule.rule.message.format(
            drug=course.label,
            before=mg(before),
            after=mg(after),
            increase=mg(after - before),
            limit=mg(phase.max_increase),
            day=int(days) + 1,
        )
    if phase.max_increases_per_week is not None:
        week = [
            i
            for i in _increases(course, index)
            if at - course.steps[i].effective_at < timedelta(days=7)
        ]
        if len(week) > phase.max_increases_per_week:
            return rule.spacing_message.format(
                drug=course.label, count=len(week), limit=phase.max_increases_per_week
            )
    return None


def _min_interval(rule: MinInterval, view: PlanView, course: Course) -> str | None:
    if view.change.kind != "dose_changed":
        return None
    index = changed_step(view, course)
    if index == 0 or index not in _increases(course, index):
        return None
    since = course.steps[index].effective_at - course.steps[index - 1].effective_at
    days = since.total_seconds() / 86400
    if days >= rule.min_days:
        return None
    return rule.rule.message.format(
        drug=course.label,
        before=mg(step_mg(course, index - 1) or 0.0),
        after=mg(step_mg(course, index) or 0.0),
        days=mg(days),
        min_days=mg(rule.min_days),
    )


def check_steps(rules: tuple[StepLimits | MinInterval, ...], view: PlanView) -> list[Finding]:
    course = titrated_course(view)
    if course is None:
        return []
    findings = []
    for rule in rules:
        if rule.drug != course.drug:
            continue
        if isinstance(rule, StepLimits):
            message = _step_limits(rule, view, course)
        else:
            message = _min_interval(rule, view, course)
        if message is not None:
            findings.append(titration_finding(rule, course, message, view))
    return findings
