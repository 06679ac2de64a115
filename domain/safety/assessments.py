"""Rules on a newly recorded questionnaire: suicide-risk item and worsening scores.

PHQ-9 item 9 (thoughts of being better off dead or of self-harm) above 0 calls for a
same-day risk assessment (e.g. C-SSRS), whatever the total. A PHQ-9 total 5 or more
points above the previous one is a clinically meaningful worsening. Both fire only for
the assessment just written, so an old answer never raises a new alert.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import AssessmentPoint, Finding
from domain.safety.drugs import normalise_name
from domain.safety.plan_view import PlanView
from domain.safety.records import Provenance, Record, Vocabulary, check_template
from domain.safety.wording import day, finding, stamp

ITEM_PLACEHOLDERS = {"instrument", "item", "score", "date"}
RISE_PLACEHOLDERS = {"instrument", "before", "after", "rise", "date", "previous_date"}


@dataclass(frozen=True)
class ItemAbove:
    """One item's score above ``threshold`` (item numbers from 1)."""

    rule: Provenance
    kind: str
    instrument: str
    item: int
    threshold: int


@dataclass(frozen=True)
class TotalRise:
    """The total at least ``min_rise`` above the previous one of the same instrument."""

    rule: Provenance
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


def _same(instrument: str, other: str) -> bool:
    return normalise_name(instrument).replace(" ", "") == normalise_name(other).replace(" ", "")


def total(point: AssessmentPoint) -> int | None:
    if point.total is not None:
        return point.total
    return sum(point.item_scores) if point.item_scores else None


def check_assessments(rules: tuple[ItemAbove | TotalRise, ...], view: PlanView) -> list[Finding]:
    change = view.change
    if change.kind != "assessment":
        return []
    ordered = sorted(view.context.assessments, key=lambda a: a.effective_at)
    findings = []
    for rule in rules:
        series = [a for a in ordered if _same(a.instrument, rule.instrument)]
        for index, point in enumerate(series):
            if point.effective_at != change.effective_at:
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
            elif index > 0:
                before, after = total(series[index - 1]), total(point)
                if before is not None and after is not None and after - before >= rule.min_rise:
                    message = rule.rule.message.format(
                        instrument=rule.instrument,
                        before=before,
                        after=after,
                        rise=after - before,
                        date=day(point.effective_at),
                        previous_date=day(series[index - 1].effective_at),
                    )
            if message is not None:
                findings.append(
                    finding(
                        rule.rule, rule.kind, [], message, key_parts=(stamp(point.effective_at),)
                    )
                )
    return findings
