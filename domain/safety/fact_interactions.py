"""Interactions between an active drug and a state of the patient recorded as a fact.

Alcohol is not prescribed, so the patient's drinking is the clinical fact ``alcohol_use``.
Regular or heavy drinking with a benzodiazepine or Z-drug adds CNS and respiratory
depression (reference row 28); alcohol stopped abruptly while on bupropion lowers the
seizure threshold, which bupropion's label makes a contraindication (row 30). A rule holds
while the fact has one of its values and the drug is active, so its alert closes when the
fact changes (to ``none``) or the drug stops.

Recording a fact is never refused: it says what is true of the patient, and a clinician
recording that the patient stopped drinking must not be blocked. A contraindicated finding
raised by a fact write therefore does not block, and its message says so; prescribing the
drug once the fact is recorded is refused unless a prescriber overrides, as for any other
contraindication.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.safety.context import Finding
from domain.safety.drugs import normalise_name
from domain.safety.fact_values import CLOSED_FACTS, canonical_value, closed_fact, value_label
from domain.safety.matching import Side, labels, matching, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import finding

FACT_STATE_PLACEHOLDERS = {"drug", "value"}
FACT_WRITE_NOTE = (
    " The fact was recorded, not refused (a clinical fact is never blocked):"
    " review {drug} without delay."
)
"""Added to a contraindicated finding that a fact write raised, which does not block."""


@dataclass(frozen=True)
class FactStateRule(PackRule):
    """A drug of ``drug`` active while the clinical fact ``fact`` has one of ``values``."""

    drug: Side
    fact: str  # normalised ("alcohol use")
    values: frozenset[str]  # canonical ("stopped_abruptly")


def read_fact_state(record: Record, rule_id: str, vocabulary: Vocabulary) -> FactStateRule:
    rule = record.rule(rule_id, FACT_STATE_PLACEHOLDERS)
    fact = record.text("fact")
    values = frozenset(canonical_value(v) for v in record.texts("values"))
    if not values:
        raise record.fail("values", "is empty: the rule would never fire")
    closed = closed_fact(fact)
    if closed is not None:
        unknown = sorted(values - set(CLOSED_FACTS[closed]))
        if unknown:
            raise record.fail(
                "values",
                f"names {', '.join(unknown)}, not values of {closed}"
                f" ({', '.join(CLOSED_FACTS[closed])})",
            )
    return FactStateRule(
        rule, read_side(record.child("drug"), vocabulary), normalise_name(fact), values
    )


def check_fact_states(rules: tuple[FactStateRule, ...], view: PlanView) -> list[Finding]:
    """Every rule whose fact has one of its values while one of its drugs is active."""
    fact_write = view.change.kind == "fact"
    findings = []
    for rule in rules:
        value = view.fact(rule.fact)
        if value is None or canonical_value(value) not in rule.values:
            continue
        courses = matching(view.active, rule.drug)
        if not courses:
            continue
        drug = labels(courses)
        message = rule.rule.message.format(drug=drug, value=value_label(value))
        found = finding(rule.rule, "interaction", [c.order_id for c in courses], message)
        if found.blocking and fact_write:
            found = replace(found, message=found.message + FACT_WRITE_NOTE.format(drug=drug))
        findings.append(replace(found, blocking=found.blocking and not fact_write, fact=rule.fact))
    return findings
