"""The patient's phenotype per gene, and where it comes from: a lab result, else a fact.

A pharmacogenomic result is the better source: the gene's phenotype is read from the
results (``genotypes.interpret``), and the clinical fact that states the same thing
(``cyp2d6_metaboliser``, ``hla_b_1502`` ...) is used only when no result can be read.
Results for one gene that read as different phenotypes are a conflict: neither is used,
and the conflict is reported (the lab must say which is right), never resolved by guess.

``overlay`` puts the phenotype a result gives into the facts the rules read, so that every
rule written against a fact (citalopram 20 mg/day in CYP2C19 poor metabolisers) reads a
result the same way. A gene whose result is also a lab test of the pack (HLA-B*15:02:
``hla_b_1502``) is read as that lab result instead (``result_labs``): the screening the
monitoring rules ask for is then done, and a positive result raises the lab rule's alert
once, not a second time through the fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.context import LabResult, PharmacogenomicResult
from domain.safety.drugs import normalise_name
from domain.safety.genotypes import Reading, interpret, tables


@dataclass(frozen=True)
class GenePhenotype:
    """What CareLog takes a gene's phenotype to be, and why."""

    gene: str
    phenotype: str | None  # None: not interpretable (or results in conflict)
    source: str  # "result", "fact" or "" (nothing readable)
    described: str  # how a message names the source
    result_ids: tuple[str, ...] = ()  # the results it rests on (or that could not be read)
    problem: str | None = None  # why no phenotype could be read from the results


def describe(result: PharmacogenomicResult, reading: Reading) -> str:
    """ "result of 2026-01-05 from Lab X: diplotype *4/*4 (activity score 0)" """
    basis = f": {reading.basis}" if reading.basis else ""
    return f"result of {result.report_date.isoformat()} from {result.lab}{basis}"


def _from_results(
    gene: str, results: list[PharmacogenomicResult], fact_value: str | None, fact_name: str
) -> GenePhenotype:
    readings = [(r, interpret(r.gene, r.diplotype, r.phenotype)) for r in results]
    readable = [(r, reading) for r, reading in readings if reading.interpretable]
    ids = tuple(r.result_id for r in results)
    if readable:
        said = {reading.phenotype for _, reading in readable}
        if len(said) > 1:
            listed = "; ".join(f"{x.phenotype} ({describe(r, x)})" for r, x in readable)
            problem = f"the {gene} results disagree: {listed}"
            return GenePhenotype(gene, None, "", "", ids, problem)
        latest, reading = readable[-1]
        return GenePhenotype(
            gene, reading.phenotype, "result", describe(latest, reading), ids, None
        )
    problems = "; ".join(
        f"{describe(r, x).split(':')[0]}: {x.problem}" for r, x in readings if x.problem
    )
    if fact_value is not None:  # the clinician's fact is still read, and the gap said
        return GenePhenotype(
            gene, fact_value, "fact", f"clinical fact {fact_name}", ids, problems or None
        )
    return GenePhenotype(gene, None, "", "", ids, problems or "not interpretable")


def gene_phenotypes(
    results: tuple[PharmacogenomicResult, ...], facts: Mapping[str, str]
) -> dict[str, GenePhenotype]:
    """Each gene CareLog reads that a result or a fact speaks of (facts keyed as
    ``PlanView.facts``: normalised names, lower-case values)."""
    out = {}
    ordered = sorted(results, key=lambda r: (r.report_date, r.effective_at, r.result_id))
    for gene, table in tables().items():
        fact_value = facts.get(normalise_name(table.fact))
        if fact_value is not None and fact_value not in table.phenotypes:
            fact_value = None  # a free-text value no rule can read
        mine = [r for r in ordered if r.gene == gene]
        if mine:
            out[gene] = _from_results(gene, mine, fact_value, table.fact)
        elif fact_value is not None:
            out[gene] = GenePhenotype(gene, fact_value, "fact", f"clinical fact {table.fact}")
    return out


def overlay(genes: Mapping[str, GenePhenotype], facts: Mapping[str, str]) -> dict[str, str]:
    """The facts with each phenotype a result gives in place of the fact's value."""
    out = dict(facts)
    for gene, found in genes.items():
        if tables()[gene].lab_test is not None:
            continue  # read as a lab result (result_labs)
        if found.source == "result" and found.phenotype is not None:
            out[normalise_name(tables()[gene].fact)] = found.phenotype
    return out


def unread_results(results: tuple[PharmacogenomicResult, ...]) -> tuple[PharmacogenomicResult, ...]:
    """Results for genes CareLog has no table for (kept and shown, read by no rule)."""
    known = tables()
    return tuple(r for r in results if r.gene not in known)


def result_labs(results: tuple[PharmacogenomicResult, ...]) -> tuple[LabResult, ...]:
    """Each readable result of a gene that is also a lab test, as that qualitative test
    (``unit`` positive or negative, no value), at the result's effective time."""
    known = tables()
    labs = []
    for result in results:
        table = known.get(result.gene)
        if table is None or table.lab_test is None:
            continue
        reading = interpret(result.gene, result.diplotype, result.phenotype)
        if reading.phenotype is not None:
            labs.append(LabResult(table.lab_test, result.effective_at, None, reading.phenotype))
    return tuple(labs)
