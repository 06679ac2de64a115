"""Pharmacogenomic rules: a drug read against the patient's phenotype for a gene.

Each record of the pack's ``pharmacogenomic_rules`` section is one row of the reference
table ("CYP2D6 poor metaboliser: pimozide at most 4 mg/day"): while one of its drugs is
active and the gene's phenotype (``phenotypes.gene_phenotypes``: a result, else the fact)
is one of the rule's, it raises one finding per order, with the action. A rule with
``max_mg_per_day`` also reports a daily dose above that maximum (a separate finding, so
lowering the dose closes it and leaves the advice). A state rule: it runs at a
prescription, a dose change, and when a result arrives or is corrected, against every
active drug; a finding that no longer holds is closed by the alert lifecycle.

Phenoconversion: a rule with ``phenoconverters`` (CYP2D6 poor metaboliser rules name the
strong CYP2D6 inhibitors) also holds for a normal or intermediate metaboliser while one of
those drugs (other than the drug itself) is active: the inhibitor makes the patient an
effective poor metaboliser. The finding names the inhibitor and includes its order, so
stopping the inhibitor closes it.

A ``not_interpretable`` record raises, per active drug its genes affect, that a result
for the gene could not be read (an unknown allele, disagreeing results ...): the rules
cannot use that gene until the lab confirms it, and the clinician must know that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from domain.safety.context import Finding
from domain.safety.frequency import readable_daily_mg
from domain.safety.genotypes import canonical_gene, tables
from domain.safety.matching import Side, labels, matching, read_side
from domain.safety.phenotypes import GenePhenotype
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, Vocabulary, check_template
from domain.safety.wording import finding, mg

PLACEHOLDERS = {"drug", "status"}
MAX_PLACEHOLDERS = {"drug", "dose", "max", "status"}
UNREAD_PLACEHOLDERS = {"drug", "gene", "problem"}
CONVERTIBLE = frozenset({"normal", "intermediate"})
"""Genotype phenotypes a strong inhibitor turns into an effective poor metaboliser."""
RESULT_WRITE_NOTE = (
    " The result was recorded, not refused (a lab result is never blocked):"
    " review {drug} without delay."
)
KIND = "pharmacogenomic"


@dataclass(frozen=True)
class PgxRule(PackRule):
    """A drug of ``drug`` active while ``gene``'s phenotype is one of ``phenotypes``."""

    gene: str
    phenotypes: frozenset[str]
    drug: Side
    max_mg_per_day: float | None = None
    max_message: str | None = None
    phenoconverters: Side | None = None
    results_only: bool = False  # a fact-based rule covers the clinical fact already


@dataclass(frozen=True)
class UnreadRule(PackRule):
    """A gene's result that cannot be read, while a drug it affects is active."""

    drugs_by_gene: tuple[tuple[str, Side], ...]


def _gene(record: Record, text: str) -> str:
    gene = canonical_gene(text)
    if gene is None:
        raise record.fail("gene", f"names {text!r}, not a gene of genotypes.json")
    return gene


def read_pgx_rule(record: Record, rule_id: str, vocabulary: Vocabulary) -> PgxRule:
    rule = record.rule(rule_id, PLACEHOLDERS)
    gene = _gene(record, record.text("gene"))
    phenotypes = frozenset(record.texts("phenotypes"))
    unknown = sorted(phenotypes - set(tables()[gene].phenotypes))
    if not phenotypes or unknown:
        raise record.fail("phenotypes", f"must name phenotypes of {gene} (not {unknown})")
    maximum = record.number("max_mg_per_day") if record.has("max_mg_per_day") else None
    max_message = record.text("max_message") if maximum is not None else None
    if max_message is not None:
        check_template(record, "max_message", max_message, MAX_PLACEHOLDERS)
    converters = None
    if record.has("phenoconverters"):
        if "poor" not in phenotypes:
            raise record.fail("phenoconverters", "applies only to a rule on poor metabolisers")
        converters = read_side(record.child("phenoconverters"), vocabulary)
    return PgxRule(
        rule=rule,
        gene=gene,
        phenotypes=phenotypes,
        drug=read_side(record.child("drug"), vocabulary),
        max_mg_per_day=maximum,
        max_message=max_message,
        phenoconverters=converters,
        results_only=record.flag("results_only", False),
    )


def read_unread_rule(record: Record, rule_id: str, vocabulary: Vocabulary) -> UnreadRule:
    rule = record.rule(rule_id, UNREAD_PLACEHOLDERS)
    by_gene = record.child("drugs_by_gene")
    sides = tuple(
        (_gene(by_gene, name), read_side(by_gene.child(name), vocabulary))
        for name in sorted(by_gene.raw)
    )
    if not sides:
        raise record.fail("drugs_by_gene", "is empty: the rule would never fire")
    return UnreadRule(rule, sides)


def phenotype_label(gene: str, phenotype: str) -> str:
    """ "CYP2D6 poor metaboliser", "HLA-B*15:02 positive", "POLG positive" """
    table = tables()[gene]
    if table.method in ("activity_score", "allele_function"):
        return f"{gene} {phenotype} metaboliser"
    if table.marker:
        return f"{gene}*{table.marker} {phenotype}"
    return f"{gene} {phenotype}"


def _status(found: GenePhenotype, converters: tuple[Course, ...]) -> str:
    assert found.phenotype is not None
    said = f"{phenotype_label(found.gene, found.phenotype)} ({found.described})"
    if not converters:
        return said
    return (
        f"{said}, taking {labels(converters)}, a strong {found.gene} inhibitor: an effective "
        f"{found.gene} poor metaboliser while it is taken (phenoconversion)"
    )


def _holds(rule: PgxRule, view: PlanView, course: Course) -> tuple[Course, ...] | None:
    """None if the rule does not hold for ``course``; else the phenoconverting drugs
    (empty when the phenotype itself is the rule's)."""
    found = view.genes.get(rule.gene)
    if found is None or found.phenotype is None:
        return None
    if rule.results_only and found.source != "result":
        return None
    if found.phenotype in rule.phenotypes:
        return ()
    if rule.phenoconverters is None or found.phenotype not in CONVERTIBLE:
        return None
    converters = matching(view.others(course.drug), rule.phenoconverters)
    return converters or None


def _daily(courses: list[Course]) -> float | None:
    total = 0.0
    for course in courses:
        daily = readable_daily_mg(course.steps[-1]) if course.steps else None
        if daily is None or not math.isfinite(daily):
            return None
        total += daily
    return total


def _over_max(
    rule: PgxRule, courses: list[Course], status: str, converters: tuple[Course, ...]
) -> Finding | None:
    assert rule.max_mg_per_day is not None
    assert rule.max_message is not None
    total = _daily(courses)
    orders = [*(c.order_id for c in courses), *(c.order_id for c in converters)]
    drug = labels(courses)
    if total is None:
        return finding(
            rule.rule,
            KIND,
            orders,
            f"{drug}: the dose could not be put in mg/day, so it was not checked against "
            f"{mg(rule.max_mg_per_day)} mg/day, the maximum for a {status}",
            severity="moderate",
            key_parts=(rule.gene, "max", "unchecked"),
            action="Check the dose against the maximum by hand.",
        )
    if total <= rule.max_mg_per_day + 1e-6:
        return None
    message = rule.max_message.format(
        drug=drug, dose=mg(total), max=mg(rule.max_mg_per_day), status=status
    )
    return finding(rule.rule, KIND, orders, message, severity="major", key_parts=(rule.gene, "max"))


def _not_blocking_on_results(found: Finding, view: PlanView, drug: str) -> Finding:
    """A result write records what the lab found: a contraindication it reveals alerts."""
    if found.blocking and view.change.kind not in ("prescribed", "dose_changed"):
        return replace(
            found, message=found.message + RESULT_WRITE_NOTE.format(drug=drug), blocking=False
        )
    return found


def check_pgx_rules(rules: tuple[PgxRule, ...], view: PlanView) -> list[Finding]:
    """Every rule that holds for an active drug, one finding per order."""
    findings = []
    for rule in rules:
        held = [(c, _holds(rule, view, c)) for c in matching(view.active, rule.drug)]
        for course, converters in held:
            if converters is None:
                continue
            found = view.genes[rule.gene]
            status = _status(found, converters)
            assert found.phenotype is not None
            effective = "poor" if converters else found.phenotype
            orders = [course.order_id, *(c.order_id for c in converters)]
            message = rule.rule.message.format(drug=course.label, status=status)
            parts = (rule.gene, effective, *(("phenoconversion",) if converters else ()))
            advice = finding(rule.rule, KIND, orders, message, key_parts=parts)
            findings.append(_not_blocking_on_results(advice, view, course.label))
            if rule.max_mg_per_day is not None:
                over = _over_max(rule, [course], status, converters)
                if over is not None:
                    findings.append(over)
    return findings


def check_unread(rules: tuple[UnreadRule, ...], view: PlanView) -> list[Finding]:
    """Per active drug of a gene whose results cannot be read: say so."""
    findings = []
    for rule in rules:
        for gene, side in rule.drugs_by_gene:
            found = view.genes.get(gene)
            if found is None or found.problem is None or not found.result_ids:
                continue
            if found.source == "result":
                continue
            for course in matching(view.active, side):
                message = rule.rule.message.format(
                    drug=course.label, gene=gene, problem=found.problem
                )
                if found.source == "fact" and found.phenotype is not None:
                    message += (
                        f" Until then the rules read the clinical fact"
                        f" ({phenotype_label(gene, found.phenotype)})."
                    )
                findings.append(
                    finding(
                        rule.rule,
                        KIND,
                        [course.order_id],
                        message,
                        key_parts=(gene, "unread", *found.result_ids),
                    )
                )
    return findings
