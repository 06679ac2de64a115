"""Query parameters of the read endpoints (plan, history, audit, feed, dashboard)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from projections.dashboard_ranking import KINDS as DASHBOARD_KINDS
from services.reading.history import public_event_types
from web.schemas.common import POSITION_MAX, Moment
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


def choice(*values: str, description: str | None = None) -> fields.String:
    """A query option that takes one of ``values``, the first when it is not given."""
    metadata = {"description": description} if description is not None else None
    return fields.String(load_default=values[0], validate=validate.OneOf(values), metadata=metadata)


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
    clock = choice(
        "recorded",
        "effective",
        description="The order and the clock `since`/`until` read: `recorded` (default; when "
        "CareLog learned of each entry) or `effective` (when it happened clinically: a late "
        "entry takes its place in the patient's course).",
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
    order = choice("recorded", "flagged_first", "newest_first", "flagged_first_newest")


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
