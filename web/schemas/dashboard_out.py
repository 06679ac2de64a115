"""The patient list and the ranked dashboard as the API answers them."""

from __future__ import annotations

from marshmallow import Schema, fields

from projections.dashboard_ranking import KINDS as DASHBOARD_KINDS


class PatientSummaryOut(Schema):
    patient_id = fields.String(required=True)
    external_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True)


class PatientsOut(Schema):
    patients = fields.List(fields.Nested(PatientSummaryOut), required=True)


class DashboardReasonOut(Schema):
    """One reason a patient needs attention."""

    kind = fields.String(required=True, metadata={"enum": list(DASHBOARD_KINDS)})
    severity = fields.String(required=True)
    message = fields.String(required=True)
    at = fields.AwareDateTime(required=True, allow_none=True)
    alert_id = fields.String(metadata={"description": "The open alert this reason is."})
    raised_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the alert was raised."}
    )
    age_days = fields.Integer(
        allow_none=True, metadata={"description": "Whole days the alert has been open."}
    )
    by = fields.String(
        allow_none=True,
        metadata={"description": "A recent change: who made it (name, else role)."},
    )


class DashboardScoreOut(Schema):
    """The latest score of a questionnaire."""

    total = fields.Integer(required=True)
    band = fields.String(
        allow_none=True, metadata={"description": "severity band (minimal, mild, ...)"}
    )
    change = fields.Integer(allow_none=True, metadata={"description": "since the one before"})
    trend = fields.List(fields.Integer(), metadata={"description": "the last totals, oldest first"})
    at = fields.AwareDateTime(allow_none=True)


class DashboardUpcomingOut(Schema):
    """A dated reminder not yet due (a PHQ-9 reassessment in 30 days): shown, not counted."""

    kind = fields.String(required=True)
    message = fields.String(required=True, metadata={"example": "PHQ-9 due 2026-03-01"})
    due_at = fields.AwareDateTime(required=True)
    alert_id = fields.String(required=True)


class DashboardPatientOut(Schema):
    """A patient on the caller's care teams, with the reasons for attention and counts."""

    patient_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    external_id = fields.String(required=True, allow_none=True)
    team_role = fields.String(required=True, allow_none=True)
    urgency = fields.Integer(required=True)
    suicide_risk = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(DashboardReasonOut), required=True)
    open_alerts = fields.Integer(required=True)
    overdue_follow_ups = fields.Integer(required=True)
    recent_changes = fields.Integer(required=True)
    worsening = fields.Boolean(required=True)
    severe_side_effects = fields.Integer(required=True)
    monitoring_due = fields.Integer(required=True)
    scores = fields.Dict(
        keys=fields.String(metadata={"enum": ["PHQ-9", "GAD-7"]}),
        values=fields.Nested(DashboardScoreOut),
        metadata={"description": "the latest PHQ-9 and GAD-7 with band and trend"},
    )
    upcoming = fields.List(
        fields.Nested(DashboardUpcomingOut),
        metadata={"description": "dated reminders not yet due (no attention needed today)"},
    )
    quiet = fields.Boolean(metadata={"description": "nothing needs attention"})


class DashboardOut(Schema):
    clinician_id = fields.String(required=True)
    role = fields.String()
    kinds = fields.List(fields.String())
    as_of = fields.AwareDateTime()
    patients = fields.List(fields.Nested(DashboardPatientOut), required=True)
