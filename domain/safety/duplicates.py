"""Duplicate therapy: two or more active courses of one therapeutic group.

Two SSRIs/SNRIs, two antipsychotics or two benzodiazepines add toxicity (serotonin
syndrome, QT, sedation) more often than benefit. A cross-taper keeps both drugs active
for a while: that still counts, and the message says which one is on its way out.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.matching import Side, labels, matching, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import day, finding

DUPLICATE_PLACEHOLDERS = {"drugs", "count"}
CROSS_TAPER_PLACEHOLDERS = {"drug", "date"}


@dataclass(frozen=True)
class DuplicateRule(PackRule):
    """At least ``min_courses`` active courses of the group."""

    group: Side
    min_courses: int
    cross_taper: str  # added to the message per course that is stopping later


def read_duplicate(record: Record, rule_id: str, vocabulary: Vocabulary) -> DuplicateRule:
    rule = record.rule(rule_id, DUPLICATE_PLACEHOLDERS)
    cross_taper = record.template("cross_taper", CROSS_TAPER_PLACEHOLDERS)
    min_courses = int(record.number("min_courses", 2))
    if min_courses < 2:
        raise record.fail("min_courses", "must be at least 2")
    return DuplicateRule(
        rule, read_side(record.child("group"), vocabulary), min_courses, cross_taper
    )


def check_duplicates(rules: tuple[DuplicateRule, ...], view: PlanView) -> list[Finding]:
    findings = []
    for rule in rules:
        group = matching(view.active, rule.group)
        if len({c.order_id for c in group}) < rule.min_courses:  # orders, not ingredients
            continue
        message = rule.rule.message.format(drugs=labels(group), count=len(group))
        for course in group:
            if course.stopped_at is not None:
                message += " " + rule.cross_taper.format(
                    drug=course.label, date=day(course.stopped_at)
                )
        findings.append(
            finding(rule.rule, "duplicate_therapy", [c.order_id for c in group], message)
        )
    return findings
