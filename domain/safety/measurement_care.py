"""Measurement-based care: reassess on schedule, and change course when the score does not move.

Two state rules over the active antidepressants (CLINICAL_REFERENCE "Measurement-based
care"; STAR*D, Trivedi 2006):

- ``reassessment_due``: a PHQ-9 is due ``days`` after the last one, never before the
  start (a score older than that is no baseline: one is due at the start). One item per
  patient, dated by its due date: a new PHQ-9 moves the date, which closes the item and
  raises the next one, so an item a clinician resolved never hides the next one.
- ``consider_change``: at an adequate dose (``domain.adequate_doses``) for ``days`` or
  more by the latest PHQ-9, which fell by less than ``max_fall_percent`` from the
  baseline (the last PHQ-9 within 30 days before the start): consider a change. One
  per order and latest score; a dose change below the adequate dose, a stop, or a new
  score showing improvement closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.adequate_doses import adequate_doses
from domain.safety.context import AssessmentPoint, Finding
from domain.safety.frequency import readable_daily_mg
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import finding

ANTIDEPRESSANT_CLASSES = (
    "ssri", "snri", "tca", "maoi", "serotonin_modulator", "antidepressant_other",
)  # fmt: skip
KINDS = ("reassessment_due", "consider_change")
BASELINE_WINDOW = timedelta(days=30)
_PLACEHOLDERS = {
    "reassessment_due": {"instrument", "last", "due"},
    "consider_change": {
        "drug", "dose", "weeks", "instrument", "baseline", "baseline_date", "latest",
        "latest_date", "fall",
    },
}  # fmt: skip


@dataclass(frozen=True)
class CareRule(PackRule):
    kind: str
    instrument: str
    days: int
    max_fall_percent: float = 20.0


def read_measurement_care(record: Record, rule_id: str, vocabulary: Vocabulary) -> CareRule:
    kind = record.choice("kind", KINDS)
    rule = record.rule(rule_id, _PLACEHOLDERS[kind])
    days = record.number("days")
    if days <= 0:
        raise record.fail("days", "must be positive")
    fall = record.number("max_fall_percent") if record.has("max_fall_percent") else 20.0
    return CareRule(rule, kind, record.text("instrument"), int(days), fall)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _scores(view: PlanView, instrument: str) -> list[AssessmentPoint]:
    return [
        p for p in view.context.assessments if p.instrument == instrument and p.total is not None
    ]


def _reassessment(rule: CareRule, courses: Sequence[Course], view: PlanView) -> list[Finding]:
    scores = _scores(view, rule.instrument)
    last = scores[-1] if scores else None
    starts = [c.true_start for c in courses if c.true_start is not None]
    if not starts:
        return []
    # due ``days`` after the last score, but never before the treatment began: a score
    # long before the start is no baseline, so one is due at the start
    due = min(starts)
    if last is not None:
        due = max(due, last.effective_at + timedelta(days=rule.days))
    message = rule.rule.message.format(
        instrument=rule.instrument,
        last=_day(last.effective_at) if last else "never",
        due=_day(due),
    )
    # about the patient, not an order: adding or stopping one of several antidepressants
    # leaves the item as it is (no new alert, no stale link to a stopped order)
    return [finding(rule.rule, rule.kind, [], message, key_parts=(_day(due),), due_at=due)]


def _adequate_since(course: Course, minimum: float) -> tuple[float, datetime] | None:
    """The current daily dose and since when the dose has been adequate without a break;
    None when the current dose is not adequate or cannot be read."""
    steps = course.steps
    since: datetime | None = None
    current: float | None = None
    for i in range(len(steps) - 1, -1, -1):
        mg = readable_daily_mg(steps[i])
        if mg is None or mg < minimum:
            break
        current = current if current is not None else mg
        since = steps[i].effective_at if i else course.true_start
    if current is None or since is None:
        return None
    return current, since


def _consider_change(rule: CareRule, courses: Sequence[Course], view: PlanView) -> list[Finding]:
    scores = _scores(view, rule.instrument)
    if not scores:
        return []
    latest = scores[-1]
    out = []
    for course in courses:
        record = adequate_doses().get(course.drug)
        start = course.true_start
        if record is None or start is None or latest.effective_at <= start:
            continue
        adequate = _adequate_since(course, record.min_mg_per_day)
        if adequate is None:
            continue
        dose, since = adequate
        weeks = (latest.effective_at - since).days / 7
        before = [s for s in scores if start - BASELINE_WINDOW <= s.effective_at <= start]
        if weeks * 7 < rule.days or not before or not before[-1].total:
            continue
        baseline = before[-1]
        first, last = int(baseline.total or 0), int(latest.total or 0)  # both scored
        fall = 100 * (first - last) / first
        if fall >= rule.max_fall_percent or last < 5:
            continue
        message = rule.rule.message.format(
            drug=course.label,
            dose=f"{dose:g}",
            weeks=f"{weeks:.0f}",
            instrument=rule.instrument,
            baseline=first,
            baseline_date=_day(baseline.effective_at),
            latest=last,
            latest_date=_day(latest.effective_at),
            fall=f"{fall:.0f}",
        )
        out.append(
            finding(
                rule.rule,
                rule.kind,
                [course.order_id],
                message,
                key_parts=(_day(latest.effective_at),),
            )
        )
    return out


def check_measurement_care(rules: Sequence[CareRule], view: PlanView) -> list[Finding]:
    courses = [c for c in view.active if c.classes.intersection(ANTIDEPRESSANT_CLASSES)]
    if not courses:
        return []
    out: list[Finding] = []
    for rule in rules:
        check = _reassessment if rule.kind == "reassessment_due" else _consider_change
        out.extend(check(rule, courses, view))
    return out
