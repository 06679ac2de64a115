"""Write bodies for the record's other entries: assessments, notes, follow-ups, alert
resolutions, education, labs, goals and plan reviews."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import fields, validate

from domain.alert_resolution import ACTIONS as ALERT_ACTIONS
from domain.alert_resolution import RISK_RESULTS
from domain.patient_commands import (
    GOAL_STATUSES,
    MODALITIES,
    NOTE_KINDS,
    RESOLUTIONS,
)
from domain.scoring import ALL_INSTRUMENTS, ANSWER_CODES, INSTRUMENTS
from web.schemas.common import (
    BLANK,
    NOT_BLANK,
    StrictSchema,
    WholeNumber,
    due_date_range,
    due_time_range,
)
from web.schemas.request_fields import domain_enum, text, when


class AssessmentIn(StrictSchema):
    instrument = fields.String(required=True, validate=validate.OneOf(ALL_INSTRUMENTS))
    item_scores = fields.List(
        WholeNumber(metadata={"minimum": 0, "maximum": len(ANSWER_CODES) - 1}),
        metadata={
            "maxItems": max(spec.item_count for spec in INSTRUMENTS.values()),
            "description": "One answer per item, 0 (not at all) to 3 (nearly every day): "
            + ", ".join(f"{name} has {spec.item_count}" for name, spec in INSTRUMENTS.items())
            + "; another count or answer is refused with 422.",
        },
    )
    diagnoses = fields.List(fields.String())
    summary = text(required=False)
    effective_at = when()


class NoteIn(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(NOTE_KINDS))
    modality = fields.String(required=True, metadata=domain_enum(MODALITIES))
    text = text()
    effective_at = when()


FOLLOW_UP_EXAMPLE_DUE = "2099-06-01T09:00:00Z"
"""/docs's example due time: Swagger UI would otherwise offer the current time, which is
refused as not in the future by the time it is sent; this one stays valid (before 2100)."""


class FollowUpIn(StrictSchema):
    due_at = fields.AwareDateTime(
        required=True,
        validate=due_time_range(),
        metadata={
            "description": "When it is due: in the future, not after 2100-12-31.",
            "example": FOLLOW_UP_EXAMPLE_DUE,
        },
    )
    purpose = text()
    effective_at = when()


class CompletionIn(StrictSchema):
    outcome = text()
    effective_at = when()


class ResolutionIn(StrictSchema):
    """API.md: ``resolution`` and ``reason``, both required. A missing or blank reason is
    a clinical refusal (422 naming ``reason``), not malformed input."""

    CLINICALLY_REQUIRED: ClassVar[tuple[str, ...]] = ("reason",)

    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))
    reason = fields.String(
        required=True,
        validate=[validate.Length(max=20000), validate.Regexp(NOT_BLANK, error=BLANK)],
    )
    action = fields.String(
        validate=validate.OneOf(ALERT_ACTIONS),
        metadata={
            "description": "What was done; required to resolve a suicide-risk alert "
            "(only a psychiatrist or therapist on the care team may)."
        },
    )
    result = fields.String(
        validate=validate.OneOf(RISK_RESULTS),
        metadata={"description": "The risk assessment's result (action risk_assessment_done)."},
    )


class EducationIn(StrictSchema):
    topic = text()
    order_id = fields.String()
    materials = text(required=False)
    effective_at = when()


class LabResultIn(StrictSchema):
    test = fields.String(required=True)
    value = fields.Float(allow_none=True, allow_nan=False)
    unit = fields.String(
        metadata={
            "description": "The value's unit as the laboratory writes it; the safety rules "
            "convert equivalent units (ANC /µL, cells/µL, 10^9/L, 10^3/µL; mmol/L = mEq/L; "
            "µg/mL = mg/L; ms; mL/min/1.73m²; U/L) and report a value in a unit they cannot "
            "convert as not judged. A qualitative result (HLA-B*15:02) is `positive` or "
            "`negative` here, with no value."
        }
    )
    effective_at = when()


class GoalIn(StrictSchema):
    description = text()
    target = text(required=False)
    due_date = fields.Date(validate=due_date_range())
    effective_at = when()


class GoalStatusIn(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(GOAL_STATUSES))
    note = text(required=False)
    effective_at = when()


class ReviewIn(StrictSchema):
    outcome = text()
    summary = text(required=False)
    effective_at = when()
