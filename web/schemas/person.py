"""Request bodies of the problem list and of the person (sex at birth, pregnancy).

Shape and types are checked here; the meaning by the domain (422 naming the field): an
ICD-10-CM code's format, a status or sex outside its set (the enums below document the
sets), dates in the future or before birth, an expected delivery date without a pregnancy."""

from __future__ import annotations

from marshmallow import fields, validate

from domain.problem_list import PREGNANCY_STATUSES, SEXES_AT_BIRTH, VERIFICATION_STATUSES
from web.schemas.common import StrictSchema


class ConditionIn(StrictSchema):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "ICD-10-CM code, e.g. F32.1, G40.909, I45.81"},
    )
    display = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "the condition as worded (default: the code)"},
    )
    onset_date = fields.String(metadata={"format": "date", "description": "when it began"})
    verification_status = fields.String(
        load_default="confirmed", metadata={"enum": list(VERIFICATION_STATUSES)}
    )
    effective_at = fields.AwareDateTime()


class ConditionResolutionIn(StrictSchema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=20000),
        metadata={"description": "resolved, in remission, entered in error ..."},
    )
    resolved_date = fields.String(metadata={"format": "date"})
    effective_at = fields.AwareDateTime()


class SexAtBirthIn(StrictSchema):
    sex_at_birth = fields.String(required=True, metadata={"enum": list(SEXES_AT_BIRTH)})
    effective_at = fields.AwareDateTime()


class PregnancyStatusIn(StrictSchema):
    status = fields.String(required=True, metadata={"enum": list(PREGNANCY_STATUSES)})
    as_of = fields.String(
        metadata={"format": "date", "description": "the date the status held (default: today)"}
    )
    expected_delivery_date = fields.String(
        metadata={"format": "date", "description": "only with status pregnant"}
    )
    effective_at = fields.AwareDateTime()
