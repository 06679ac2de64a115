"""A patient's history and the audit trail as the API answers them."""

from __future__ import annotations

from marshmallow import Schema, fields

from web.schemas.common import ActorSchema


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
