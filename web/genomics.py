"""Pharmacogenomic results: recorded like a lab result by any clinician on the team, read
by the rules against every active drug (an alert per affected order, with the action),
shown in the plan with their phenotype and source, exported as FHIR genomics
Observations. Corrected through ``/corrections`` like any entry."""

from __future__ import annotations

from typing import Any

from domain.command_context import CommandContext
from services.writing.application import WriteResult
from services.writing.genomics import record_result
from web.blueprint import CareLogBlueprint
from web.context import carelog
from web.schemas import genomics
from web.write_routes import add_write


def _record(
    ctx: CommandContext, pid: str, version: int | None, fields: dict[str, Any]
) -> WriteResult:
    return record_result(carelog().commands, ctx, pid, version, fields)


blp = CareLogBlueprint(
    "pharmacogenomics",
    __name__,
    url_prefix="/api/v1/patients",
    description="Pharmacogenomic results (CYP2D6, CYP2C19, HLA-B*15:02, HLA-A*31:01, POLG).",
)
add_write(
    blp,
    "/<uuid:pid>/pharmacogenomic-results",
    genomics.PharmacogenomicResultIn,
    endpoint="record_pharmacogenomic_result",
    what="pharmacogenomic_result",
    handler=_record,
    summary=(
        "Record a pharmacogenomic result as reported (gene, diplotype and/or phenotype, lab, "
        "report date); returns result_id, the reading (phenotype or not interpretable) and "
        "the alerts it raised on active drugs."
    ),
)
