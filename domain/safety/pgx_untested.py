"""Genotype-before-dose rules: a drug above a daily dose while a gene has no readable phenotype.

Some labels tie a dose to a genotype rather than to a phenotype: Orap (pimozide) says to
genotype CYP2D6 before an adult's dose goes above 4 mg/day, because a poor metaboliser must
stay at or below it. A ``genotype_required`` record raises, per active order of its drug
above ``above_mg_per_day``, that the gene has no result on record (or only one that could
not be read), so the dose cannot be judged safe. A readable phenotype (a result, else the
clinical fact) closes it: the phenotype rules then take over (PGX-CYP2D6-PM-PIMOZIDE caps
a poor metaboliser). A state rule, like the phenotype rules.

The threshold is the adult one; it is applied at every age, because a child's label
threshold (0.05 mg/kg/day for pimozide) is lower for any child's weight, so a child over
4 mg/day is over it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.matching import Side, matching, read_side
from domain.safety.pgx_rules import KIND, _daily, _gene
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import finding, mg

PLACEHOLDERS = {"drug", "dose", "above", "gene", "status"}


@dataclass(frozen=True)
class UntestedRule(PackRule):
    """A drug of ``drug`` above ``above_mg_per_day`` while ``gene`` has no readable phenotype."""

    gene: str
    drug: Side
    above_mg_per_day: float


def read_untested_rule(record: Record, rule_id: str, vocabulary: Vocabulary) -> UntestedRule:
    rule = record.rule(rule_id, PLACEHOLDERS)
    above = record.number("above_mg_per_day")
    if above < 0:
        raise record.fail("above_mg_per_day", "must not be negative")
    return UntestedRule(
        rule=rule,
        gene=_gene(record, record.text("gene")),
        drug=read_side(record.child("drug"), vocabulary),
        above_mg_per_day=above,
    )


def check_untested(rules: tuple[UntestedRule, ...], view: PlanView) -> list[Finding]:
    """Per active order above the threshold while the gene has no readable phenotype."""
    findings = []
    for rule in rules:
        found = view.genes.get(rule.gene)
        if found is not None and found.phenotype is not None:
            continue
        if found is None or not found.result_ids:
            status = f"no {rule.gene} result is on record"
            parts: tuple[str, ...] = (rule.gene, "untested")
        else:
            status = f"the {rule.gene} result could not be read ({found.problem})"
            parts = (rule.gene, "unread", *found.result_ids)
        for course in matching(view.active, rule.drug):
            total = _daily([course])
            if total is None or total <= rule.above_mg_per_day + 1e-6:
                continue
            message = rule.rule.message.format(
                drug=course.label,
                dose=mg(total),
                above=mg(rule.above_mg_per_day),
                gene=rule.gene,
                status=status,
            )
            findings.append(finding(rule.rule, KIND, [course.order_id], message, key_parts=parts))
    return findings
