"""Rules on a newly recorded questionnaire: suicide-risk item and worsening scores.

PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0 calls for a
same-day risk assessment (e.g. C-SSRS), whatever the total. A PHQ-9 total 5 or more
points above the previous one is a clinically meaningful worsening. Both fire only for
the assessment just written, so an old answer never raises a new alert.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.safety.context import AssessmentPoint, Finding
from domain.safety.drugs import normalise_name
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary, check_template
from domain.safety.wording import day, finding, stamp

ITEM_PLACEHOLDERS = {"instrument", "item", "score", "date"}
RISE_PLACEHOLDERS = {"instrument", "before", "after", "rise", "date", "previous_date"}


@dataclass(frozen=True)
class ItemAbove(PackRule):
    """One item's score above ``threshold`` (item numbers from 1)."""

    kind: str
    instrument: str
    item: int
    threshold: int


@dataclass(frozen=True)
class TotalRise(PackRule):
    """The total at least ``min_rise`` above the previous one of the same instrument."""

    kind: str
    instrument: str
    min_rise: int


def read_assessment(record: Record, rule_id: str, vocabulary: Vocabulary) -> ItemAbove | TotalRise:
    rule = record.provenance(rule_id)
    kind = record.choice("kind", ("suicide_risk", "worsening"))
    instrument = record.text("instrument")
    if record.choice("type", ("item_above", "total_rise")) == "item_above":
        check_template(record, "message", rule.message, ITEM_PLACEHOLDERS)
        item = int(record.number("item"))
        if item < 1:
            raise record.fail("item", "counts from 1")
        return ItemAbove(rule, kind, instrument, item, int(record.number("threshold")))
    check_template(record, "message", rule.message, RISE_PLACEHOLDERS)
    return TotalRise(rule, kind, instrument, int(record.number("min_rise")))


@functools.lru_cache(maxsize=256)
def _instrument(name: str) -> str:
    """An instrument's name as compared: "PHQ 9", "phq-9" and "PHQ-9" are one instrument."""
    return normalise_name(name).replace(" ", "")


def total(point: AssessmentPoint) -> int | None:
    if point.total is not None:
        return point.total
    return sum(point.item_scores) if point.item_scores else None


def check_assessments(rules: tuple[ItemAbove | TotalRise, ...], view: PlanView) -> list[Finding]:
    """The rules on the assessments recorded at the change's effective time, each against
    the one of its instrument just before it. The points are in effective order, so only
    those are read, however long the record: a write stays O(log n) in its history."""
    change = view.change
    if change.kind != "assessment":
        return []
    points = view.context.assessments
    first = bisect_left(points, change.effective_at, key=_effective)
    last = bisect_right(points, change.effective_at, key=_effective)
    findings = []
    for rule in rules:
        instrument = _instrument(rule.instrument)
        for index in range(first, last):
            point = points[index]
            if _instrument(point.instrument) != instrument:
                continue
            message = None
            if isinstance(rule, ItemAbove):
                score = (
                    point.item_scores[rule.item - 1]
                    if len(point.item_scores) >= rule.item
                    else None
                )
                if score is not None and score > rule.threshold:
                    message = rule.rule.message.format(
                        instrument=rule.instrument,
                        item=rule.item,
                        score=score,
                        date=day(point.effective_at),
                    )
            elif (previous := _previous(points, index, instrument)) is not None:
                before, after = total(previous), total(point)
                if before is not None and after is not None and after - before >= rule.min_rise:
                    message = rule.rule.message.format(
                        instrument=rule.instrument,
                        before=before,
                        after=after,
                        rise=after - before,
                        date=day(point.effective_at),
                        previous_date=day(previous.effective_at),
                    )
            if message is not None:
                findings.append(
                    finding(
                        rule.rule, rule.kind, [], message, key_parts=(stamp(point.effective_at),)
                    )
                )
    return findings


def _effective(point: AssessmentPoint) -> datetime:
    return point.effective_at


def _previous(
    points: Sequence[AssessmentPoint], index: int, instrument: str
) -> AssessmentPoint | None:
    """The nearest earlier point of the same instrument."""
    for earlier in range(index - 1, -1, -1):
        if _instrument(points[earlier].instrument) == instrument:
            return points[earlier]
    return None
