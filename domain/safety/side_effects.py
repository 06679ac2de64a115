"""Side effects read against the suspect drug: a rash on lamotrigine, fever with rigidity on
an antipsychotic, chest pain in clozapine's first two months.

A report is a change: its rules fire once, when it is written (or corrected), and the
alert stays until a clinician deals with it. The suspect drug is the report's order when
it names one, else every drug active at the report that the rule covers. A rule matches
on any of its ``effects`` alone, or on one phrase of each ``combined`` group (fever *and*
rigidity); ``within_days`` limits it to the first days of the course (myocarditis). The
severity is the rule's, raised by ``if_severe`` when the report says severe and by
``escalate`` when one of its phrases is present (a rash with blisters or fever).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding, SideEffect
from domain.safety.effect_terms import Clause, Phrase, clauses, first_match, matches
from domain.safety.matching import Side, labels, read_side
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import SEVERITIES, PackRule, Record, Vocabulary
from domain.safety.wording import SEVERITY_RANK, day, finding

SIDE_EFFECT_PLACEHOLDERS = {"drug", "effect", "date", "days", "start", "matched"}
KINDS = ("side_effect", "suicide_risk")
"""A report of suicidal thoughts is a suicide-risk alert, shown and resolved as one."""


@dataclass(frozen=True)
class SideEffectRule(PackRule):
    drugs: Side
    effects: tuple[Phrase, ...]  # any one alone
    combined: tuple[tuple[Phrase, ...], ...] = ()  # one phrase of every group
    within_days: float | None = None  # days from the course's start
    if_severe: str | None = None  # severity when the report says "severe"
    escalate: tuple[Phrase, ...] = ()
    escalate_severity: str | None = None
    kind: str = "side_effect"


def _phrases(record: Record, field: str) -> tuple[Phrase, ...]:
    phrases = tuple(Phrase.of(text) for text in record.texts(field))
    if not phrases or not all(p.words for p in phrases):
        raise record.fail(field, "is empty or has a phrase without words")
    return phrases


def read_side_effect(record: Record, rule_id: str, vocabulary: Vocabulary) -> SideEffectRule:
    rule = record.rule(rule_id, SIDE_EFFECT_PLACEHOLDERS)
    combined: tuple[tuple[Phrase, ...], ...] = ()
    if "combined" in record.raw:
        groups = record.raw["combined"]
        if not isinstance(groups, list) or len(groups) < 2:
            raise record.fail("combined", "must be a list of two or more lists of phrases")
        combined = tuple(
            _phrases(Record({"combined": g}, record.where), "combined") for g in groups
        )
    within = record.number("within_days") if "within_days" in record.raw else None
    if_severe = record.choice("if_severe", SEVERITIES) if "if_severe" in record.raw else None
    escalate: tuple[Phrase, ...] = ()
    escalate_severity = None
    if "escalate" in record.raw:
        child = record.child("escalate")
        escalate = _phrases(child, "terms")
        escalate_severity = child.choice("severity", SEVERITIES)
    return SideEffectRule(
        rule=rule,
        drugs=read_side(record.child("drugs"), vocabulary),
        effects=_phrases(record, "effects"),
        combined=combined,
        within_days=within,
        if_severe=if_severe,
        escalate=escalate,
        escalate_severity=escalate_severity,
        kind=record.choice("kind", KINDS) if "kind" in record.raw else "side_effect",
    )


def _matched(rule: SideEffectRule, report: tuple[Clause, ...]) -> str | None:
    """What in the report the rule recognised ("rash"; "fever and rigid"), or None."""
    alone = first_match(rule.effects, report)
    if alone is not None:
        return str(alone)
    if not rule.combined:
        return None
    found = [first_match(group, report) for group in rule.combined]
    if any(f is None for f in found):
        return None
    return " and ".join(str(f) for f in found)


def _severity(rule: SideEffectRule, effect: SideEffect, report: tuple[Clause, ...]) -> str:
    levels = [rule.rule.severity]
    if rule.if_severe and effect.severity.lower() == "severe":
        levels.append(rule.if_severe)
    if rule.escalate_severity and any(matches(p, report) for p in rule.escalate):
        levels.append(rule.escalate_severity)
    return min(levels, key=lambda s: SEVERITY_RANK.get(s, 99))


def _suspects(rule: SideEffectRule, view: PlanView, effect: SideEffect) -> list[Course]:
    if effect.order_id is not None:
        named = view.course(effect.order_id)
        candidates = [named] if named is not None else []
    else:
        candidates = list(view.active)
    found = []
    for course in candidates:
        if not rule.drugs.matches(course) or not course.active_at(effect.effective_at):
            continue
        if course.start is not None and course.start > effect.effective_at:
            continue
        if rule.within_days is not None and (
            course.start is None
            or (effect.effective_at - course.start).total_seconds() > rule.within_days * 86400
        ):
            continue
        found.append(course)
    return found


def check_side_effects(rules: tuple[SideEffectRule, ...], view: PlanView) -> list[Finding]:
    """Findings for the side effects the change reports (none for other changes)."""
    change = view.change
    if change.kind != "side_effect":
        return []
    reports = [e for e in view.context.side_effects if e.effective_at == change.effective_at]
    findings = []
    for effect in reports:
        report = clauses(effect.effect)
        for rule in rules:
            matched = _matched(rule, report)
            suspects = _suspects(rule, view, effect) if matched else []
            if not matched or not suspects:
                continue
            starts = [c.start for c in suspects if c.start is not None]
            days = (effect.effective_at - min(starts)).days if starts else 0
            start = day(min(starts)) if starts else "on an unknown date"
            message = rule.rule.message.format(
                drug=labels(suspects),
                effect=" ".join(effect.effect.split()),
                date=day(effect.effective_at),
                days=days,
                start=start,
                matched=matched,
            )
            findings.append(
                finding(
                    rule.rule,
                    rule.kind,
                    [c.order_id for c in suspects],
                    message,
                    key_parts=(effect.report_id,),
                    severity=_severity(rule, effect, report),
                )
            )
    return findings
