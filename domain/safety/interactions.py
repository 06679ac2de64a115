"""Drug-drug interactions between two active drugs (the pack's pair rules).

A pair rule holds while a drug of side A and a different drug of side B are both active
(two ingredients of one marketed combination product are not checked against each other:
the product is made that way; two drugs typed into one order, "fluoxetine/amitriptyline",
are).
All orders of the two drugs make one finding, whichever order the list came in. A general
rule can give way to a more specific one for the same two drugs ("superseded_by": two QT
drugs is major, but ziprasidone with one of its label-listed QT drugs is contraindicated,
and one alert says it better than two).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.matching import Side, labels, read_side
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import finding

PAIR_PLACEHOLDERS = {"a", "b"}


@dataclass(frozen=True)
class PairRule(PackRule):
    """Two drugs (or classes) that should not, or only with care, be taken together."""

    a: Side
    b: Side
    superseded_by: tuple[str, ...] = ()


def read_pair(record: Record, rule_id: str, vocabulary: Vocabulary) -> PairRule:
    rule = record.rule(rule_id, PAIR_PLACEHOLDERS)
    return PairRule(
        rule=rule,
        a=read_side(record.child("a"), vocabulary),
        b=read_side(record.child("b"), vocabulary),
        superseded_by=record.texts("superseded_by", ()),
    )


Pair = tuple[tuple[Course, ...], tuple[Course, ...]]


def _by_drug(courses: tuple[Course, ...]) -> dict[str, tuple[Course, ...]]:
    grouped: dict[str, list[Course]] = {}
    for course in courses:
        if course.info is not None:
            grouped.setdefault(course.drug, []).append(course)
    return {drug: tuple(group) for drug, group in sorted(grouped.items())}


def pairs_for(rule: PairRule, view: PlanView) -> dict[frozenset[str], Pair]:
    """The drug pairs the rule holds for, each once (a symmetric rule matches both ways)."""
    grouped = _by_drug(view.active)
    found: dict[frozenset[str], Pair] = {}
    for drug_a, courses_a in grouped.items():
        side_a = tuple(c for c in courses_a if rule.a.matches(c))
        if not side_a:
            continue
        orders_a = {c.order_id for c in side_a}
        for drug_b, courses_b in grouped.items():
            # two ingredients of one marketed product are made to be taken together
            side_b = tuple(
                c
                for c in courses_b
                if rule.b.matches(c) and not (c.product and c.order_id in orders_a)
            )
            pair = frozenset((drug_a, drug_b))
            if drug_b != drug_a and side_b and pair not in found:
                found[pair] = (side_a, side_b)
    return found


def check_pairs(rules: tuple[PairRule, ...], view: PlanView) -> list[Finding]:
    """Every pair rule that holds among the active courses."""
    held = {rule.rule.id: pairs_for(rule, view) for rule in rules}
    findings = []
    for rule in rules:
        for pair, (side_a, side_b) in held[rule.rule.id].items():
            if any(pair in held.get(other, {}) for other in rule.superseded_by):
                continue
            message = rule.rule.message.format(a=labels(side_a), b=labels(side_b))
            orders = [c.order_id for c in (*side_a, *side_b)]
            findings.append(finding(rule.rule, "interaction", orders, message))
    return findings
