"""Schemas shared by many endpoints: problems, write results, alerts, doses, actors."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load

BLANK = "Say why: this may not be blank."
"""The message for a blank clinical justification (see ``web.blueprint.CareLogParser``)."""


class StrictSchema(Schema):
    """Request bodies: unknown fields are refused (a typo must not be silently dropped),
    and so is a NUL character anywhere (no store keeps one: PostgreSQL refuses it)."""

    @pre_load
    def _no_nul(self, data: Any, **_: Any) -> Any:
        found = _nul_paths(data, "")
        if found:
            raise ValidationError({path: ["May not contain a NUL character."] for path in found})
        return data


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    if isinstance(value, dict):
        return [
            p
            for key, inner in value.items()
            for p in _nul_paths(inner, f"{path}.{key}" if path else str(key))
            + (_nul_paths(key, path or "_schema") if isinstance(key, str) else [])
        ]
    if isinstance(value, list):
        return [p for n, inner in enumerate(value) for p in _nul_paths(inner, f"{path}.{n}")]
    return []


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``errors`` maps fields to messages."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    alerts = fields.List(fields.Dict())


class ActorSchema(Schema):
    id = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)


class DoseSchema(Schema):
    amount = fields.Float(required=True, allow_nan=False)
    unit = fields.String(required=True)


class AlertSchema(Schema):
    """A safety alert a write raised."""

    id = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    message = fields.String(required=True)
    rule_id = fields.String()
    action = fields.String()
    source = fields.String()
    order_ids = fields.List(fields.String())
    due_at = fields.AwareDateTime(allow_none=True)
    blocking = fields.Boolean()


class WriteResultSchema(Schema):
    """Every write's answer: the event, the record's version after it, its log position,
    the endpoint's own ids and the safety alerts it raised."""

    event_id = fields.String(required=True)
    patient_id = fields.String(required=True)
    version = fields.Integer(required=True)
    position = fields.Integer(required=True)
    last_position = fields.Integer()
    alerts = fields.List(fields.Nested(AlertSchema), required=True)
    warnings = fields.List(
        fields.String(),
        metadata={"description": "Accepted, but worth knowing (e.g. a fact no rule reads)."},
    )
    order_id = fields.String()
    note_id = fields.String()
    follow_up_id = fields.String()
    assessment_id = fields.String()
    side_effect_id = fields.String()
    consent_id = fields.String()
    goal_id = fields.String()
    adherence_id = fields.String()
    education_id = fields.String()
    review_id = fields.String()
    lab_id = fields.String()
    total = fields.Integer(allow_none=True)
    severity = fields.String(allow_none=True)
    expires_at = fields.AwareDateTime()
    condition_id = fields.String()
    result_id = fields.String()
    phenotype = fields.String(
        metadata={
            "description": "A pharmacogenomic result's phenotype as CareLog reads it "
            "(absent: not interpretable)."
        },
    )
    interpretation = fields.String(
        metadata={
            "description": "How a pharmacogenomic result was read (the diplotype and "
            "its CPIC activity score, the reported phenotype), or 'not interpretable'."
        }
    )


WRITE_RESULT = WriteResultSchema()
"""The one instance every write both declares and dumps its answer through."""
