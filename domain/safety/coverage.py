"""Drugs the pack does not know: reported, never passed as safe.

A name the pack cannot resolve gets no interaction, dose or monitoring check. Saying so
keeps a clinician from reading "no alerts" as "checked and fine". Beside a drug whose
interactions kill (an MAOI, clozapine, lithium, pimozide, a QT-prolonging drug,
linezolid), an unchecked drug is a major alert naming that drug, never only information.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.matching import Side, labels, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Provenance, Record, Vocabulary, check_template
from domain.safety.wording import finding

HIGH_RISK_PLACEHOLDERS = {"drug", "others"}


@dataclass(frozen=True)
class HighRisk(PackRule):
    """An unknown drug beside one of ``beside`` is raised at the rule's severity."""

    beside: Side


def read_high_risk(record: Record, vocabulary: Vocabulary) -> HighRisk:
    rule = record.provenance(record.text("id"), record.choice("severity", ("major", "moderate")))
    check_template(record, "message", rule.message, HIGH_RISK_PLACEHOLDERS)
    check_template(record, "action", rule.action, HIGH_RISK_PLACEHOLDERS)
    return HighRisk(rule, read_side(record.child("beside"), vocabulary))


def check_unknown_drugs(
    rule: Provenance, view: PlanView, high_risk: HighRisk | None = None
) -> list[Finding]:
    findings = []
    for course in view.active:
        if course.info is not None:
            continue
        risky = (
            [c for c in view.active if c is not course and high_risk.beside.matches(c)]
            if high_risk is not None
            else []
        )
        if high_risk is not None and risky:
            words = {"drug": course.label, "others": labels(risky)}
            findings.append(
                finding(
                    high_risk.rule,
                    "unknown_drug",
                    [course.order_id, *(c.order_id for c in risky)],
                    high_risk.rule.message.format(**words),
                    key_parts=(course.label,),
                    action=high_risk.rule.action.format(**words),
                )
            )
            continue
        findings.append(
            finding(rule, "unknown_drug", [course.order_id], rule.message.format(drug=course.label))
        )
    return findings
