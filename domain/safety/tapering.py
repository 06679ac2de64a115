"""Stopping or cutting a drug that needs a taper.

SSRIs/SNRIs (discontinuation syndrome), benzodiazepines (withdrawal seizures), clozapine
(cholinergic rebound, rebound psychosis), lamotrigine, valproate, carbamazepine (seizures)
and lithium (early relapse) should come down gradually. A discontinuation with no taper
schedule (one that gives a step or a duration, not "none needed": ``taper_text``) is
flagged; so is a single dose step that cuts too much at once: by default more than half
of the daily dose (``max_fraction`` 0.5; a benzodiazepine 0.25 within 14 days, cuts in
that interval adding up), or for clonazepam and alprazolam more than the label's step
(0.25 and 0.5 mg/day), or sooner than its interval (3 days).
A drug-specific rule wins over its class rule.

A drug stopped for a serious reaction its label says to stop it at once for (clozapine for
neutropenia or myocarditis, lamotrigine for a rash, valproate for hepatotoxicity, an SSRI
for serotonin syndrome) must not be met with a demand for taper steps: a rule's
``stop_at_once`` words, found in the discontinuation's reason or taper text, turn the
abrupt-stop alert into its ``stop_at_once_message`` (what to watch for after the stop).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.context import DoseStep, Finding
from domain.safety.frequency import readable_daily_mg
from domain.safety.matching import Side, read_side
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import (
    SEVERITIES,
    PackRule,
    Record,
    Vocabulary,
)
from domain.safety.taper_text import is_taper_schedule, why_not_a_schedule
from domain.safety.wording import finding, mg, stamp

STOP_PLACEHOLDERS = {"drug"}
CUT_PLACEHOLDERS = {"drug", "before", "after", "cut", "limit", "days", "min_days"}
AT_ONCE_PLACEHOLDERS = {"drug", "reason"}


@dataclass(frozen=True)
class TaperRule(PackRule):
    """Which drugs need a taper and how big (and how frequent) one step down may be."""

    side: Side
    reduction_message: str
    max_fraction: float | None  # largest cut of one step, as a fraction of the daily dose
    max_step_mg: float | None  # or: largest cut of one step in mg/day ...
    min_days: float  # ... and the shortest time between two cuts
    drug_severity: Mapping[str, str]  # e.g. fluoxetine's long half-life: a lower severity
    stop_at_once: tuple[str, ...] = ()  # word starts of reactions the label stops it for
    stop_at_once_message: str = ""
    stop_at_once_severity: str = "info"


def read_taper(record: Record, rule_id: str, vocabulary: Vocabulary) -> TaperRule:
    rule = record.rule(rule_id, STOP_PLACEHOLDERS)
    reduction = record.template("reduction_message", CUT_PLACEHOLDERS)
    fraction = record.number("max_fraction") if record.has("max_fraction") else None
    step = record.number("max_step_mg_per_day") if record.has("max_step_mg_per_day") else None
    if (fraction is None) == (step is None):
        raise record.fail("max_fraction", "or 'max_step_mg_per_day' is needed (one only)")
    drug_severity: dict[str, str] = {}
    if record.has("drug_severity"):
        severities = record.child("drug_severity")
        for drug in severities.raw:
            if drug not in vocabulary.drugs:
                raise record.fail("drug_severity", f"names an unknown drug {drug!r}")
            drug_severity[drug] = severities.choice(drug, SEVERITIES)
    at_once = tuple(w.lower() for w in record.texts("stop_at_once", ()))
    at_once_message = record.template(
        "stop_at_once_message", AT_ONCE_PLACEHOLDERS, used=bool(at_once)
    )
    return TaperRule(
        rule,
        read_side(record.child("drugs"), vocabulary),
        reduction,
        fraction,
        step,
        record.number("min_days", 0),
        drug_severity,
        at_once,
        at_once_message,
        record.choice("stop_at_once_severity", SEVERITIES, "info") if at_once else "info",
    )


def stopped_at_once_for(rule: TaperRule, *texts: str | None) -> str | None:
    """The reaction named in the stop's reason or taper text that the label stops the drug
    at once for, or None."""
    for text in texts:
        lowered = " ".join((text or "").lower().split())
        for word in rule.stop_at_once:
            if re.search(rf"\b{re.escape(word)}", lowered):
                return word
    return None


def rule_for(rules: tuple[TaperRule, ...], course: Course) -> TaperRule | None:
    """The taper rule for a course: one naming the drug before one naming its class."""
    named = [r for r in rules if course.drug in r.side.drugs and r.side.matches(course)]
    return next(iter(named or [r for r in rules if r.side.matches(course)]), None)


def _window_start(rule: TaperRule, steps: tuple[DoseStep, ...], index: int) -> int:
    """The step the cut is judged from: the one before it, or, for a fraction rule with an
    interval (a benzodiazepine: 25 % every 14 days), the dose before the cuts made within
    that interval, so that several small cuts in a few days add up."""
    start = index - 1
    if rule.max_fraction is None or not rule.min_days:
        return start
    while start > 0:
        earlier, later = readable_daily_mg(steps[start - 1]), readable_daily_mg(steps[start])
        within = (steps[index].effective_at - steps[start].effective_at).total_seconds()
        if earlier is None or later is None or earlier <= later:
            break
        if within >= rule.min_days * 86400:
            break
        start -= 1
    return start


def _cut(rule: TaperRule, course: Course, index: int) -> str | None:
    """Why the step at ``index`` cuts too much or too soon, or None."""
    steps = course.steps
    start = _window_start(rule, steps, index)
    before, after = readable_daily_mg(steps[start]), readable_daily_mg(steps[index])
    if before is None or after is None or after >= before:
        return None
    if readable_daily_mg(steps[index - 1]) is not None and after >= (
        readable_daily_mg(steps[index - 1]) or 0.0
    ):
        return None  # this step is not a cut
    cut = before - after
    days = (steps[index].effective_at - steps[start].effective_at).total_seconds() / 86400
    words = {"drug": course.label, "before": mg(before), "after": mg(after), "days": mg(days),
             "min_days": mg(rule.min_days)}  # fmt: skip
    if rule.max_fraction is not None and cut / before > rule.max_fraction + 1e-9:
        return rule.reduction_message.format(
            cut=f"{mg(100 * cut / before)}%", limit=f"{mg(100 * rule.max_fraction)}%", **words
        )
    previous = readable_daily_mg(steps[index - 2]) if index >= 2 else None
    cut_just_before = previous is not None and previous > before
    too_big = rule.max_step_mg is not None and cut > rule.max_step_mg + 1e-9
    if too_big or (cut_just_before and days < rule.min_days):
        return rule.reduction_message.format(
            cut=f"{mg(cut)} mg/day", limit=f"{mg(rule.max_step_mg or 0)} mg/day", **words
        )
    return None


def check_tapers(rules: tuple[TaperRule, ...], view: PlanView) -> list[Finding]:
    change = view.change
    course = view.course(change.order_id)
    if course is None or not course.steps:
        return []
    rule = rule_for(rules, course)
    if rule is None:
        return []
    severity = rule.drug_severity.get(course.drug)
    parts = (stamp(change.effective_at),)
    if change.kind == "discontinued":
        stopped, start = course.stopped_at, course.start
        if stopped is None or start is None or stopped <= start:
            return []  # never taken: nothing to taper
        if is_taper_schedule(course.source.taper):
            return []
        reaction = stopped_at_once_for(rule, course.source.stop_reason, course.source.taper)
        if reaction is not None:
            reason = " ".join((course.source.stop_reason or course.source.taper or "").split())
            return [
                finding(
                    rule.rule,
                    "side_effect",
                    [course.order_id],
                    rule.stop_at_once_message.format(drug=course.label, reason=reason),
                    severity=rule.stop_at_once_severity,
                    key_parts=(*parts, "stopped_at_once"),
                    action=(
                        "Stopping at once is right for this reaction; do not restart without "
                        "specialist advice, and monitor as the message says."
                    ),
                )
            ]
        message = rule.rule.message.format(drug=course.label) + why_not_a_schedule(
            course.source.taper
        )
        return [
            finding(
                rule.rule,
                "abrupt_stop",
                [course.order_id],
                message,
                severity=severity,
                key_parts=parts,
            )
        ]
    if change.kind == "dose_changed" and len(course.steps) >= 2:
        at = [i for i, s in enumerate(course.steps) if s.effective_at == change.effective_at]
        index = at[-1] if at and at[-1] > 0 else len(course.steps) - 1
        cut = _cut(rule, course, index)
        if cut is not None:
            return [
                finding(
                    rule.rule,
                    "abrupt_stop",
                    [course.order_id],
                    cut,
                    severity=severity,
                    key_parts=parts,
                )
            ]
    return []
