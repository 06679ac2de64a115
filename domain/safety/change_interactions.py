"""Interactions set off by a change rather than by a combination.

Clozapine and smoking: tobacco smoke induces CYP1A2, so quitting raises clozapine levels
and starting lowers them; the alert comes when the smoking status changes. A status
recorded for the first time that may itself be a recent change ("ex-smoker": the patient
may have stopped last week) alerts too, where the rule marks that state
(``when_first_recorded``) and says so in its ``first_message``. Bupropion and
an abrupt stop of a benzodiazepine, barbiturate or antiepileptic: the withdrawal lowers
the seizure threshold, which bupropion's label makes a contraindication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.drugs import normalise_name
from domain.safety.matching import Side, labels, matching, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.taper_text import is_taper_schedule
from domain.safety.wording import finding, stamp

FACT_PLACEHOLDERS = {"drug", "previous", "current", "effect"}
FIRST_PLACEHOLDERS = {"drug", "current", "effect"}
STOP_PLACEHOLDERS = {"stopped", "other"}


@dataclass(frozen=True)
class FactChangeRule(PackRule):
    """A change of a clinical fact (between known states) while a drug is active."""

    drug: Side
    fact: str
    states: Mapping[str, frozenset[str]]  # state -> the values that mean it
    effects: Mapping[str, str]  # new state -> what it does to the drug
    first_states: frozenset[str] = frozenset()  # states that alert when first recorded
    first_message: str = ""


@dataclass(frozen=True)
class StopWithRule(PackRule):
    """A drug of ``stopped`` discontinued without a taper while a drug of ``other`` is active."""

    stopped: Side
    other: Side


def read_fact_change(record: Record, rule_id: str, vocabulary: Vocabulary) -> FactChangeRule:
    rule = record.rule(rule_id, FACT_PLACEHOLDERS)
    states: dict[str, frozenset[str]] = {}
    effects: dict[str, str] = {}
    first: set[str] = set()
    for state in record.records("states"):
        name = state.text("state")
        states[name] = frozenset(normalise_name(v) for v in state.texts("values"))
        effects[name] = state.text("effect")
        if state.flag("when_first_recorded", False):
            first.add(name)
    if len(states) < 2:
        raise record.fail("states", "needs at least two states")
    first_message = record.template("first_message", FIRST_PLACEHOLDERS, used=bool(first))
    return FactChangeRule(
        rule,
        read_side(record.child("drug"), vocabulary),
        normalise_name(record.text("fact")),
        states,
        effects,
        frozenset(first),
        first_message,
    )


def read_stop_with(record: Record, rule_id: str, vocabulary: Vocabulary) -> StopWithRule:
    rule = record.rule(rule_id, STOP_PLACEHOLDERS)
    return StopWithRule(
        rule,
        read_side(record.child("stopped"), vocabulary),
        read_side(record.child("other"), vocabulary),
    )


def _state(rule: FactChangeRule, value: str | None) -> str | None:
    if value is None:
        return None
    key = normalise_name(value)
    return next((state for state, values in rule.states.items() if key in values), None)


def check_fact_changes(rules: tuple[FactChangeRule, ...], view: PlanView) -> list[Finding]:
    change = view.change
    if change.kind != "fact" or change.fact is None:
        return []
    findings = []
    for rule in rules:
        if normalise_name(change.fact) != rule.fact:
            continue
        before, after = _state(rule, change.previous_value), _state(rule, view.fact(rule.fact))
        courses = matching(view.active, rule.drug)
        if after is None or not courses:
            continue
        if change.previous_value is None and after in rule.first_states:
            message = rule.first_message.format(
                drug=labels(courses), current=after, effect=rule.effects[after]
            )
        elif before is None or before == after:
            continue
        else:
            message = rule.rule.message.format(
                drug=labels(courses), previous=before, current=after, effect=rule.effects[after]
            )
        findings.append(
            finding(
                rule.rule,
                "interaction",
                [c.order_id for c in courses],
                message,
                key_parts=(stamp(change.effective_at),),
            )
        )
    return findings


def check_stops(rules: tuple[StopWithRule, ...], view: PlanView) -> list[Finding]:
    change = view.change
    stopped = view.course(change.order_id)
    if change.kind != "discontinued" or stopped is None or is_taper_schedule(stopped.source.taper):
        return []
    findings = []
    for rule in rules:
        others = matching(view.others(stopped.drug), rule.other)
        if rule.stopped.matches(stopped) and others:
            message = rule.rule.message.format(stopped=stopped.label, other=labels(others))
            orders = [stopped.order_id, *(c.order_id for c in others)]
            findings.append(
                finding(
                    rule.rule,
                    "interaction",
                    orders,
                    message,
                    key_parts=(stamp(change.effective_at),),
                )
            )
    return findings
