"""Recording a pharmacogenomic result: the write answers with CareLog's reading of it
(the phenotype, or "not interpretable" and why), so that the clinician who typed it sees
at once whether the rules can use it (``domain/pharmacogenomics.py`` reads the plan's)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from domain.commands import RecordPharmacogenomicResult
from services.writing.application import WriteResult

if TYPE_CHECKING:
    from domain.plan import PlanState


def with_reading(result: WriteResult, command: RecordPharmacogenomicResult) -> WriteResult:
    """The answer to a recorded result: its reading, and a warning when it cannot be read."""
    from domain.safety.genotypes import NOT_INTERPRETABLE, interpret

    reading = interpret(command.gene or "", command.diplotype or None, command.phenotype or None)
    ids = {
        **result.ids,
        "interpretation": reading.basis if reading.interpretable else NOT_INTERPRETABLE,
    }
    if reading.phenotype is not None:  # absent: not interpretable
        ids["phenotype"] = reading.phenotype
    warnings = list(result.warnings)
    if not reading.interpretable:
        warnings.append(
            f"The result was recorded but is not interpretable ({reading.problem}): no rule "
            "reads a phenotype from it. Ask the laboratory to confirm, or correct the entry."
        )
    return replace(result, ids=ids, warnings=warnings)


def fact_behind_a_result(plan: Callable[[], PlanState], fact: Any) -> str | None:
    """A warning when a metaboliser or HLA fact was recorded while a result for its gene
    gives the phenotype: the rules read the result (the better source), not the fact."""
    from domain.pharmacogenomics import summary
    from domain.safety.fact_vocabulary import fact_spec
    from domain.safety.genotypes import tables

    spec = fact_spec(fact) if isinstance(fact, str) else None
    gene = next((g for g, t in tables().items() if spec and t.fact == spec.name), None)
    if gene is None:
        return None
    for found in summary(plan())["phenotypes"]:
        if found["gene"] == gene and found["source"] == "result":
            return (
                f"A pharmacogenomic result gives the {gene} phenotype ({found['phenotype']}, "
                f"{found['described']}): the rules read it, not this fact. Correct the result "
                "if it is wrong."
            )
    return None
