"""Response bodies of the treatment-trials and team-outcomes reads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from web.schemas.read_queries import ReadQuery

OUTCOMES = (
    "remission",
    "response",
    "partial response",
    "minimal improvement",
    "too early to judge",
    "not assessed",
    "inadequate dose",
)


class TrialsQuery(ReadQuery):
    as_of = fields.AwareDateTime(metadata={"description": "the trials as known at this time"})
    effective_at = fields.AwareDateTime(
        metadata={"description": "the trials as in effect (and judged) at this time"}
    )


class TrialStepOut(Schema):
    effective_at = fields.AwareDateTime(required=True)
    amount = fields.Float(required=True)
    unit = fields.String(required=True)
    frequency = fields.String(required=True)
    mg_per_day = fields.Float(
        allow_none=True, metadata={"description": "null: not a mass unit, or frequency unread"}
    )
    as_needed = fields.Boolean(
        metadata={
            "description": "taken only when needed (PRN): mg_per_day is the most that may "
            "be taken a day, not a dose taken"
        }
    )


class TrialScoreOut(Schema):
    total = fields.Integer(required=True)
    effective_at = fields.AwareDateTime(required=True)


class TrialSideEffectOut(Schema):
    effect = fields.String(required=True)
    severity = fields.String(required=True)
    effective_at = fields.AwareDateTime(required=True)


class AdherenceSummaryOut(Schema):
    reports = fields.Integer(required=True)
    doses_taken = fields.Integer(required=True)
    doses_missed = fields.Integer(required=True)
    percent_taken = fields.Float(allow_none=True)


class TrialContinuingOut(Schema):
    since = fields.String(required=True)
    source = fields.String()


class TrialOut(Schema):
    trial_id = fields.String(required=True, metadata={"description": "the first order's id"})
    order_ids = fields.List(fields.String(), required=True)
    drug = fields.String(required=True)
    drug_class = fields.String(allow_none=True)
    antidepressant = fields.Boolean(required=True)
    indication = fields.String(allow_none=True)
    started_at = fields.AwareDateTime(
        required=True, metadata={"description": "effective start (continuing: the true start)"}
    )
    stopped_at = fields.AwareDateTime(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    stop_reason = fields.String(allow_none=True)
    continuing = fields.Nested(TrialContinuingOut, allow_none=True)
    duration_days = fields.Float(required=True)
    dose_steps = fields.List(fields.Nested(TrialStepOut), required=True)
    highest_mg_per_day = fields.Float(
        allow_none=True,
        metadata={"description": "the highest daily dose (an as-needed step: its daily maximum)"},
    )
    as_needed = fields.Boolean(
        metadata={
            "description": "every step was as needed (PRN): highest_mg_per_day is a maximum "
            "that may be taken, not a dose taken; such a course is never adequate by it"
        }
    )
    highest_regular_mg_per_day = fields.Float(
        allow_none=True,
        metadata={"description": "the highest daily dose of the steps not taken as needed"},
    )
    min_adequate_mg_per_day = fields.Float(allow_none=True)
    adequate_dose_source = fields.String(allow_none=True)
    days_at_adequate_dose = fields.Float(allow_none=True)
    adequate = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "null: no minimum adequate dose on record, a dose not in mg, or "
            "an adequate dose reached only as an as-needed maximum"
        },
    )
    adherence = fields.Nested(AdherenceSummaryOut, required=True)
    side_effects = fields.List(fields.Nested(TrialSideEffectOut), required=True)
    instrument = fields.String(allow_none=True)
    baseline = fields.Nested(TrialScoreOut, allow_none=True)
    no_baseline = fields.Boolean(required=True)
    best = fields.Nested(TrialScoreOut, allow_none=True)
    latest = fields.Nested(TrialScoreOut, allow_none=True)
    percent_change = fields.Float(
        allow_none=True, metadata={"description": "fall from baseline to latest, in %"}
    )
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    weeks_to_response = fields.Float(allow_none=True)


class ResistanceOut(Schema):
    episode_started_at = fields.AwareDateTime(allow_none=True)
    adequate_failed_trials = fields.Integer(required=True)
    treatment_resistant = fields.Boolean(required=True)
    trial_ids = fields.List(fields.String(), required=True)
    adequate_unassessed_trial_ids = fields.List(fields.String(), required=True)


class TrialsOut(Schema):
    patient_id = fields.String(required=True)
    version = fields.Integer(required=True)
    trials = fields.List(fields.Nested(TrialOut), required=True)
    resistance = fields.Nested(ResistanceOut, required=True)
    as_of = fields.AwareDateTime(allow_none=True)
    effective_at = fields.AwareDateTime(allow_none=True)


class OutcomeCellOut(Schema):
    drug_class = fields.String(required=True)
    patients = fields.Integer(allow_none=True, metadata={"description": "null: suppressed"})
    trials = fields.Integer(allow_none=True)
    judged_trials = fields.Integer(allow_none=True)
    response_rate = fields.Float(allow_none=True)
    remission_rate = fields.Float(allow_none=True)
    median_weeks_to_response = fields.Float(allow_none=True)
    suppressed = fields.Boolean(required=True)


class OutcomesOut(Schema):
    clinician_id = fields.String(required=True)
    as_of = fields.AwareDateTime(required=True)
    minimum_patients = fields.Integer(required=True)
    classes = fields.List(fields.Nested(OutcomeCellOut), required=True)
