"""The pharmacogenomic results on a plan, as the rules and the plan documents read them.

The plan document (``projections/plan_document.py``, stored by the view and built on
demand for the history) shows: each gene's phenotype with its
source (a result, else the clinical fact; see ``domain/safety/phenotypes.py``), and each
result as reported with CareLog's reading of it ("not interpretable" and why, where so).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TypedDict

from domain.json_value import JsonObject
from domain.safety.context import PharmacogenomicResult
from domain.safety.drugs import normalise_name
from domain.safety.genotypes import NOT_INTERPRETABLE, interpret
from domain.safety.phenotypes import gene_phenotypes

if TYPE_CHECKING:
    from domain.plan import PlanState
    from domain.plan_records import PharmacogenomicResult as RecordedResult


def recorded(state: PlanState) -> list[RecordedResult]:
    """The results on record, in report order."""
    return sorted(
        state.pharmacogenomics.values(),
        key=lambda r: (r.report_date, r.effective_at, r.recorded_at, r.result_id),
    )


def results(state: PlanState) -> tuple[PharmacogenomicResult, ...]:
    """The results as the rules read them, in report order."""
    return tuple(
        PharmacogenomicResult(
            result_id=r.result_id,
            gene=r.gene,
            diplotype=r.diplotype,
            phenotype=r.phenotype,
            lab=r.lab,
            report_date=date.fromisoformat(r.report_date),
            effective_at=r.effective_at,
        )
        for r in recorded(state)
    )


class Reading(TypedDict):
    """One result as reported, with CareLog's reading of it."""

    result_id: str
    gene: str
    diplotype: str | None
    phenotype_reported: str | None
    lab: str
    report_date: str
    phenotype: str | None
    interpretation: str
    problem: str | None
    activity_score: float | None
    table_source: str | None
    event_id: str
    recorded_by: JsonObject
    effective_at: datetime
    corrected: bool


class Phenotype(TypedDict):
    """A gene's phenotype as the rules read it, with its source."""

    gene: str
    phenotype: str | None
    source: str | None  # result | fact | None (nothing readable)
    described: str | None
    result_ids: list[str]
    problem: str | None


class Summary(TypedDict):
    """The plan's pharmacogenomics."""

    phenotypes: list[Phenotype]
    results: list[Reading]


def reading_of(result: RecordedResult) -> Reading:
    """One result as recorded, with CareLog's reading of it."""
    reading = interpret(result.gene, result.diplotype, result.phenotype)
    return {
        "result_id": result.result_id,
        "gene": result.gene,
        "diplotype": result.diplotype,
        "phenotype_reported": result.phenotype,
        "lab": result.lab,
        "report_date": result.report_date,
        "phenotype": reading.phenotype,
        "interpretation": reading.basis if reading.interpretable else NOT_INTERPRETABLE,
        "problem": reading.problem,
        "activity_score": reading.activity_score,
        "table_source": reading.source or None,
        "event_id": result.event_id,
        "recorded_by": result.actor.as_dict(),
        "effective_at": result.effective_at,
        "corrected": result.corrected,
    }


def summary(state: PlanState) -> Summary:
    """The plan's pharmacogenomics: ``phenotypes`` (per gene, with the source) and
    ``results`` (each with its reading)."""
    facts = {
        normalise_name(name): " ".join(str(fact.value).lower().split())
        for name, fact in state.facts.items()
    }
    genes = gene_phenotypes(results(state), facts)
    return {
        "phenotypes": [
            {
                "gene": g.gene,
                "phenotype": g.phenotype,
                "source": g.source or None,  # result | fact | None (nothing readable)
                "described": g.described or None,
                "result_ids": list(g.result_ids),
                "problem": g.problem,
            }
            for g in genes.values()
        ],
        "results": [reading_of(r) for r in recorded(state)],
    }
