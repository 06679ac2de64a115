"""The outbound feed as the API answers it: CloudEvents envelopes and their data."""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, post_dump

from web.schemas.common import ActorSchema


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
