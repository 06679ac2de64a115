"""Write bodies about the patient and their care: registration, the care team, consent,
reasons."""

from __future__ import annotations

from marshmallow import fields, validate

from domain.patient_commands import (
    CONSENT_DECISIONS,
    CONSENT_SCOPES,
)
from domain.problem_list import SEXES_AT_BIRTH
from web.schemas.common import (
    StrictSchema,
)
from web.schemas.request_fields import CLINICAL_ROLES, domain_enum, text, when


class PatientIn(StrictSchema):
    external_id = text(min_length=1, max_length=200)
    name = text(min_length=1, max_length=500)
    birth_date = fields.Date(required=True)
    allergies = fields.List(fields.String(validate=validate.Length(max=200)))
    effective_at = when()
    sex_at_birth = fields.String(
        metadata=domain_enum(
            SEXES_AT_BIRTH,
            "optional; read by label rules (pregnancy prevention); 422 if outside the set",
        ),
    )


class CareTeamMemberIn(StrictSchema):
    clinician_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(CLINICAL_ROLES))
    effective_at = when()


class ReasonIn(StrictSchema):
    reason = text()


class ConsentIn(StrictSchema):
    scope = fields.String(required=True, validate=validate.OneOf(CONSENT_SCOPES))
    decision = fields.String(required=True, validate=validate.OneOf(CONSENT_DECISIONS))
    note = text(required=False)
    effective_at = when()
