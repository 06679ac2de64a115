"""The current plan as the API answers it: medications, assessments, alerts, conditions,
goals and the care team."""

from __future__ import annotations

from marshmallow import Schema, fields

from web.schemas.common import ActorSchema, AlertBaseSchema, DoseSchema
from web.schemas.genomics import PharmacogenomicsOut


class ContinuingOut(Schema):
    """The established therapy an order continues: since when, from where."""

    since = fields.String(required=True, metadata={"format": "date"})
    source = fields.String(required=True)


class MedicationOut(Schema):
    order_id = fields.String(required=True)
    drug = fields.String(required=True)
    drug_info = fields.Dict(
        metadata={
            "description": "what the rule pack made of the drug name: generic, classes, rxnorm, "
            "in_rule_pack, and for a combination product its ingredients (generic names)"
        }
    )
    dose = fields.Nested(DoseSchema, required=True)
    frequency = fields.String(required=True)
    route = fields.String()
    indication = fields.String()
    since = fields.AwareDateTime(required=True)
    last_change = fields.AwareDateTime(allow_none=True)
    prescriber = fields.Nested(ActorSchema)
    status = fields.String()
    stopped_at = fields.AwareDateTime(allow_none=True)
    corrected = fields.Boolean()
    continuing = fields.Nested(
        ContinuingOut,
        allow_none=True,
        metadata={"description": "Set when the order continues established therapy."},
    )


class AssessmentOut(Schema):
    assessment_id = fields.String(required=True)
    instrument = fields.String(required=True)
    total = fields.Integer(allow_none=True)
    severity = fields.String(allow_none=True)
    item_scores = fields.List(fields.Integer())
    diagnoses = fields.List(fields.String())
    effective_at = fields.AwareDateTime()
    trend = fields.List(fields.Integer())
    change = fields.Integer(allow_none=True)
    corrected = fields.Boolean()


class OpenAlertOut(AlertBaseSchema):
    action = fields.String()
    rule_id = fields.String()
    source = fields.String()
    order_ids = fields.List(fields.String())
    due_at = fields.AwareDateTime(allow_none=True)
    raised_at = fields.AwareDateTime()
    age_days = fields.Integer(
        allow_none=True, metadata={"description": "Whole days since the alert was raised."}
    )
    override_reason = fields.String(allow_none=True)


class PatientOut(Schema):
    id = fields.String(required=True)
    external_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True)
    allergies = fields.List(fields.String())
    sex_at_birth = fields.String(allow_none=True)


class ConditionOut(Schema):
    """One condition on the problem list: recorded, or diagnosed in an assessment
    (``source`` ``assessment``, id ``dx:<code>``)."""

    condition_id = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "ICD-10-CM"})
    display = fields.String()
    onset_date = fields.String(allow_none=True)
    verification_status = fields.String()
    source = fields.String(metadata={"enum": ["recorded", "assessment"]})
    since = fields.AwareDateTime()
    recorded_by = fields.Nested(ActorSchema)


class PregnancyOut(Schema):
    status = fields.String(
        required=True,
        metadata={"enum": ["pregnant", "not_pregnant", "lactating", "postpartum"]},
    )
    as_of = fields.String()
    expected_delivery_date = fields.String(allow_none=True)
    recorded_by = fields.Nested(ActorSchema)
    effective_at = fields.AwareDateTime()


class GoalOut(Schema):
    goal_id = fields.String(required=True)
    description = fields.String()
    target = fields.String(allow_none=True)
    due_date = fields.String(allow_none=True)
    status = fields.String()


class FollowUpOut(Schema):
    follow_up_id = fields.String(required=True)
    due_at = fields.AwareDateTime()
    purpose = fields.String()
    overdue = fields.Boolean()


class CareTeamMemberOut(Schema):
    clinician_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    role = fields.String()
    since = fields.AwareDateTime()


class PlanOut(Schema):
    patient_id = fields.String(required=True)
    patient = fields.Nested(PatientOut)
    version = fields.Integer(required=True)
    medications = fields.List(fields.Nested(MedicationOut), required=True)
    assessments = fields.List(fields.Nested(AssessmentOut), required=True)
    alerts = fields.List(fields.Nested(OpenAlertOut), required=True)
    goals = fields.List(fields.Nested(GoalOut), required=True)
    follow_ups = fields.List(fields.Nested(FollowUpOut), required=True)
    care_team = fields.List(fields.Nested(CareTeamMemberOut), required=True)
    conditions = fields.List(fields.Nested(ConditionOut))
    pregnancy = fields.Nested(PregnancyOut, allow_none=True)
    pharmacogenomics = fields.Nested(PharmacogenomicsOut)
    as_of = fields.AwareDateTime(allow_none=True)
    effective_at = fields.AwareDateTime(allow_none=True)
