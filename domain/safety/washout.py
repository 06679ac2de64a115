"""MAOI washouts: the gap needed between stopping one drug and starting the other.

An MAOI inhibits the enzyme irreversibly and serotonergic antidepressants linger, so
starting one too soon after the other stopped risks serotonin syndrome or a hypertensive
crisis as surely as taking them together: at least 14 days either way, 5 weeks after
fluoxetine (whose active metabolite has a half-life of about a week). The check runs when
a drug is prescribed, from the effective times of the stop and the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.matching import Side, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import day, finding, mg, stamp

WASHOUT_PLACEHOLDERS = {"started", "stopped", "days", "needed", "date"}


@dataclass(frozen=True)
class WashoutRule(PackRule):
    """Starting a drug of ``start`` needs ``days`` since a drug of ``stopped`` stopped."""

    start: Side
    stopped: Side
    days: float
    days_by_drug: Mapping[str, float]  # longer washouts after some stopped drugs


def read_washout(record: Record, rule_id: str, vocabulary: Vocabulary) -> WashoutRule:
    rule = record.rule(rule_id, WASHOUT_PLACEHOLDERS)
    by_drug: dict[str, float] = {}
    if record.has("days_by_drug"):
        longer = record.child("days_by_drug")
        for drug in longer.raw:
            if drug not in vocabulary.drugs:
                raise longer.fail(drug, "is not a drug of the pack")
            by_drug[drug] = longer.number(drug)
    return WashoutRule(
        rule,
        read_side(record.child("start"), vocabulary),
        read_side(record.child("stopped"), vocabulary),
        record.number("days"),
        by_drug,
    )


def check_washouts(rules: tuple[WashoutRule, ...], view: PlanView) -> list[Finding]:
    change = view.change
    started = view.course(change.order_id)
    if change.kind != "prescribed" or started is None or started.start is None:
        return []
    findings = []
    for rule in rules:
        if not rule.start.matches(started):
            continue
        for earlier in view.courses:
            stop = earlier.stopped_at
            if earlier.drug == started.drug or stop is None or stop > started.start:
                continue  # still overlapping: the interaction rules cover it
            needed = rule.days_by_drug.get(earlier.drug, rule.days)
            gap = (started.start - stop).total_seconds() / 86400
            if not rule.stopped.matches(earlier) or gap >= needed:
                continue
            message = rule.rule.message.format(
                started=started.label,
                stopped=earlier.label,
                days=mg(gap),
                needed=mg(needed),
                date=day(stop),
            )
            findings.append(
                finding(
                    rule.rule,
                    "washout",
                    [earlier.order_id, started.order_id],
                    message,
                    key_parts=(stamp(change.effective_at),),
                )
            )
    return findings
