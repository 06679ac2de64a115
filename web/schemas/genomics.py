"""The request body of a pharmacogenomic result.

Shape and types are checked here; the meaning by the domain (422 naming the field): a
report date in the future or before birth, neither a diplotype nor a phenotype. A gene,
allele or wording CareLog cannot read is accepted and kept: the plan shows it as "not
interpretable" with the reason, and no rule reads a phenotype from it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.schemas.common import ActorSchema, StrictSchema


def _as_reported(description: str) -> fields.String:
    """A result's optional reading as the lab wrote it (at most 200 characters)."""
    return fields.String(
        allow_none=True, validate=validate.Length(max=200), metadata={"description": description}
    )


class PharmacogenomicResultIn(StrictSchema):
    gene = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "The gene as reported: CYP2D6, CYP2C19, HLA-B (or HLA-B*15:02), "
            "HLA-A (or HLA-A*31:01), POLG are read by the rules; another gene is kept, read "
            "by none (the answer's warnings say so)."
        },
    )
    diplotype = _as_reported(
        "As reported, e.g. *1/*4, *1x2/*2, *36+*10/*10 (CYP2D6: CPIC activity score), *2/*17 "
        "(CYP2C19: allele function), *15:02/*40:01 (HLA). An allele CareLog's CPIC table "
        "lacks makes the result not interpretable."
    )
    phenotype = _as_reported(
        "As reported: poor / intermediate / normal / rapid / ultrarapid metaboliser (PM, IM, "
        "NM, RM, UM; metabolizer too), positive / negative (HLA, POLG). With a diplotype, both "
        "must agree, else the result is not interpretable."
    )
    lab = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The laboratory that reported it."},
    )
    report_date = fields.String(
        required=True, metadata={"format": "date", "description": "The report's date."}
    )
    effective_at = fields.AwareDateTime(
        metadata={"description": "When it became known clinically (default: now)."}
    )


class GenePhenotypeOut(Schema):
    gene = fields.String(required=True)
    phenotype = fields.String(
        allow_none=True, metadata={"description": "null: no result or fact can be read"}
    )
    source = fields.String(
        allow_none=True,
        metadata={
            "enum": ["result", "fact", None],
            "description": "result: a pharmacogenomic result (the better source); fact: the "
            "clinical fact (cyp2d6_metaboliser ...), read only when no result can be",
        },
    )
    described = fields.String(allow_none=True, metadata={"description": "the source in words"})
    result_ids = fields.List(fields.String())
    problem = fields.String(
        allow_none=True, metadata={"description": "why the results could not be read"}
    )


class PharmacogenomicResultOut(Schema):
    result_id = fields.String(required=True)
    gene = fields.String(required=True)
    diplotype = fields.String(allow_none=True)
    phenotype_reported = fields.String(allow_none=True)
    lab = fields.String()
    report_date = fields.String(metadata={"format": "date"})
    phenotype = fields.String(allow_none=True, metadata={"description": "as CareLog reads it"})
    interpretation = fields.String(
        metadata={"description": "how it was read, or 'not interpretable'"}
    )
    problem = fields.String(allow_none=True)
    activity_score = fields.Float(allow_none=True, metadata={"description": "CYP2D6 only"})
    table_source = fields.String(allow_none=True, metadata={"description": "the CPIC table"})
    event_id = fields.String()
    recorded_by = fields.Nested(ActorSchema)
    effective_at = fields.AwareDateTime()
    corrected = fields.Boolean()


class PharmacogenomicsOut(Schema):
    phenotypes = fields.List(fields.Nested(GenePhenotypeOut), required=True)
    results = fields.List(fields.Nested(PharmacogenomicResultOut), required=True)
