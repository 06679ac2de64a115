"""Pharmacogenomic results: recorded like a lab result by any clinician on the team, read
by the rules against every active drug (an alert per affected order, with the action),
shown in the plan with their phenotype and source, exported as FHIR genomics
Observations. Corrected through ``/corrections`` like any entry."""

from __future__ import annotations

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.schemas import genomics
from web.write_routes import Write, add_writes

blp = add_writes(
    CareLogBlueprint(
        "pharmacogenomics",
        __name__,
        url_prefix="/api/v1/patients",
        description="Pharmacogenomic results (CYP2D6, CYP2C19, HLA-B*15:02, HLA-A*31:01, POLG).",
    ),
    Write(
        c.RecordPharmacogenomicResult,
        "/pharmacogenomic-results",
        genomics.PharmacogenomicResultIn,
        "pharmacogenomic_result",
        "Record a pharmacogenomic result as reported (gene, diplotype and/or phenotype, lab, "
        "report date); returns result_id, the reading (phenotype or not interpretable) and "
        "the alerts it raised on active drugs.",
    ),
)
