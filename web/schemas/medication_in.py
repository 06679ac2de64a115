"""Write bodies about medications: prescribing (and continuing therapy), dose changes,
discontinuation, side effects, adherence."""

from __future__ import annotations

from marshmallow import fields, validate

from domain.dose import ROUTES
from domain.patient_commands import (
    SEVERITIES,
)
from web.schemas.common import (
    DoseSchema,
    StrictSchema,
    WholeNumber,
    plausible_count,
)
from web.schemas.request_fields import FREQUENCY, day, domain_enum, text, when


class ContinuingIn(StrictSchema):
    """The order continues established therapy (a transfer of care): start-dose and
    titration rules do not fire, monitoring runs from ``since``."""

    since = fields.Date(
        required=True, metadata={"description": "When the patient began this therapy."}
    )
    source = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": 'Where it was established, e.g. "transfer from X hospital".'},
    )


class MedicationIn(StrictSchema):
    drug = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dose = fields.Nested(DoseSchema, required=True)
    frequency = fields.String(required=True, metadata=FREQUENCY)
    route = fields.String(required=True, metadata=domain_enum(ROUTES))
    indication = text()
    instructions = text(required=False)
    effective_at = when()
    override_reason = text(required=False)
    continuing = fields.Nested(ContinuingIn)
    rxnorm = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,10}$", error="An RxNorm RxCUI is 1 to 10 digits."),
        metadata={
            "description": "optional RxNorm RxCUI of the product prescribed (e.g. 36437); "
            "exported in FHIR beside the ingredient code CareLog resolves. 422 when it is "
            "the ingredient code of another drug than the one named (or of one ingredient "
            "of a combination)"
        },
    )


class DoseChangeIn(StrictSchema):
    dose = fields.Nested(DoseSchema, required=True)
    frequency = fields.String(metadata=FREQUENCY)
    reason = text()
    effective_at = when()
    override_reason = text(required=False)


class DiscontinuationIn(StrictSchema):
    reason = text()
    taper = text(required=False)
    effective_at = when()
    override_reason = text(required=False)


class SideEffectIn(StrictSchema):
    order_id = fields.String()
    effect = text()
    severity = fields.String(
        required=True,
        validate=validate.OneOf(
            SEVERITIES,
            error="Choose how severe it is: mild (noticed, daily life goes on as usual), "
            "moderate (gets in the way of daily life) or severe (stops daily activities or "
            "needs urgent care).",
        ),
        metadata={"description": "mild, moderate or severe"},
    )
    onset = fields.String()
    action_taken = text(required=False)
    effective_at = when()


class AdherenceIn(StrictSchema):
    order_id = fields.String(required=True)
    doses_taken = WholeNumber(required=True, validate=plausible_count())
    doses_missed = WholeNumber(required=True, validate=plausible_count())
    period_start = day(required=True)
    period_end = day(required=True)
    effective_at = when()
