"""Query parameters and response bodies of the read endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, post_dump, validate

from projections.dashboard_ranking import KINDS as DASHBOARD_KINDS
from services.reading.history import public_event_types
from web.schemas.common import POSITION_MAX, ActorSchema, DoseSchema, Moment
from web.schemas.genomics import PharmacogenomicsOut
from web.schemas.patterns import comma_list, one_of, prefix

OPERATOR_ACTIONS = ("export.log", "import.log", "projections.skip")
"""What an operator does from the command line (services/cli/export.py, projections/skip.py)."""
ACCESS_PREFIXES = ("read:", "denied:")
CURSOR = {
    "pattern": "^[0-9]{1,18}$",
    "description": "next_cursor from the previous page (another value is a 400)",
}


def audit_action_pattern() -> str:
    """What ``web.audit`` accepts as an ``action`` filter: an event type or operator action,
    ``read:WHAT`` or ``denied:WHAT``, or a prefix of any of them ending in ``*``."""
    known = [*public_event_types(), *OPERATOR_ACTIONS]
    access = r"(?:read|denied):[\s\S]+"
    return rf"^(?:{one_of(known)}|{access}|{prefix([*known, *ACCESS_PREFIXES])}\*)$"


class ReadQuery(Schema):
    min_position = fields.Integer(
        validate=validate.Range(max=POSITION_MAX),
        metadata={
            "description": "wait (up to 2 s) until the views reach this log position; one "
            "beyond the log's head is a 400 at once, naming the head"
        },
    )


class PlanQuery(ReadQuery):
    as_of = Moment(metadata={"description": "the plan as known at this time"})
    effective_at = Moment(
        metadata={"description": "the plan as in effect at this time (late entries included)"}
    )


class HistoryQuery(ReadQuery):
    since = Moment()
    until = Moment()
    type = fields.String(
        metadata={
            "description": "event types, comma-separated (e.g. `DoseChanged,AssessmentRecorded`);"
            " an unknown one is a 400 listing the valid ones",
            "pattern": comma_list(public_event_types()),
        }
    )
    cursor = fields.String(metadata=CURSOR)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    clock = fields.String(
        load_default="recorded",
        validate=validate.OneOf(("recorded", "effective")),
        metadata={
            "description": "The order and the clock `since`/`until` read: `recorded` "
            "(default; when CareLog learned of each entry) or `effective` (when it happened "
            "clinically: a late entry takes its place in the patient's course)."
        },
    )


class AuditQuery(ReadQuery):
    since = Moment()
    until = Moment()
    cursor = fields.String(metadata=CURSOR)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    action = fields.String(
        metadata={
            "description": "an event type, an operator action (export.log, import.log, "
            "projections.skip), read:WHAT or denied:WHAT; end with * to match by prefix "
            "(read:* every read); anything else is a 400 listing them",
            "pattern": audit_action_pattern(),
        }
    )


class AllAuditQuery(AuditQuery):
    actor = fields.String()
    patient_id = fields.String()
    order = fields.String(
        load_default="recorded",
        validate=validate.OneOf(
            ("recorded", "flagged_first", "newest_first", "flagged_first_newest")
        ),
    )


class FeedQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=POSITION_MAX))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class DashboardQuery(ReadQuery):
    kinds = fields.String(
        metadata={
            "description": "reason kinds to show, comma-separated (suicide risk is always "
            "shown); an unknown one is a 422 listing them",
            "pattern": comma_list(DASHBOARD_KINDS),
        }
    )


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


class OpenAlertOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    message = fields.String(required=True)
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


class EventOut(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    version = fields.Integer()
    recorded_at = fields.AwareDateTime(required=True)
    effective_at = fields.AwareDateTime(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    correlation_id = fields.String()
    late_entry = fields.Boolean()
    data = fields.Dict(required=True)


class HistoryOut(Schema):
    events = fields.List(fields.Nested(EventOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class AuditEntryOut(Schema):
    id = fields.Integer()
    action = fields.String(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    at = fields.AwareDateTime(required=True)
    effective_at = fields.AwareDateTime(allow_none=True)
    patient_id = fields.String(allow_none=True, required=True)
    request_id = fields.String(allow_none=True, required=True)
    source = fields.String(allow_none=True, required=True)
    allowed = fields.Boolean()
    flagged = fields.Boolean()
    details = fields.Dict(allow_none=True)


class AuditOut(Schema):
    entries = fields.List(fields.Nested(AuditEntryOut), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


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


class CloudEventDataOut(Schema):
    """A feed message's data: the envelope fields every type carries, then the type's own
    fields (``services.feeds.feed_contract``), only those the caller's role may see."""

    class Meta:
        unknown = INCLUDE

    effective_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    position = fields.Integer(required=True, metadata={"description": "place in the global log"})
    actor = fields.Nested(ActorSchema, required=True)

    @post_dump(pass_original=True)
    def _keep_type_fields(self, data: dict[str, Any], original: Any, **_: Any) -> dict[str, Any]:
        extra = {k: v for k, v in dict(original).items() if k not in self.fields}
        return {**extra, **data}


class CloudEventOut(Schema):
    """A CloudEvents 1.0 message (JSON): ``subject`` is the patient id, ``type`` the
    versioned contract type (``carelog.medication.dose-changed.v1``)."""

    specversion = fields.String(required=True, metadata={"enum": ["1.0"]})
    id = fields.String(required=True, metadata={"description": "the event id"})
    source = fields.String(required=True)
    type = fields.String(required=True)
    subject = fields.String(required=True, metadata={"description": "the patient id"})
    time = fields.String(
        required=True, metadata={"format": "date-time", "description": "recorded time"}
    )
    datacontenttype = fields.String(metadata={"enum": ["application/json"]})
    data = fields.Nested(CloudEventDataOut, required=True)


class FeedOut(Schema):
    items = fields.List(fields.Nested(CloudEventOut), required=True)
    next_after = fields.Integer(required=True)
