"""Schemas shared by many endpoints: problems, write results, alerts, doses, actors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate

from domain.dose import SMALLEST_DOSE, UNITS

BLANK = "Say why: this may not be blank."
"""The message for a blank clinical justification (see ``web.blueprint.CareLogParser``)."""

_BLANKS = (
    "\\u0009-\\u000d\\u001c-\\u001f\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
NOT_BLANK = f"^[{_BLANKS}]*[^{_BLANKS}]"
"""A pattern, read alike by Python and ECMA-262: some character that is not blank. Spelled
out because the two languages' ``\\s`` differ (Python's takes U+001C to U+001F and U+0085,
ECMA's U+FEFF): a reason of only U+001F passed the document's ``\\S`` and was then refused
as blank. Here a character either language calls blank is blank."""


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


NO_NUL = "^[^\\u0000]*$"
"""A JSON Schema pattern: no NUL character (``StrictSchema`` refuses one anywhere)."""


def no_nul_property(
    converter: Any, field: fields.Field[Any], ret: dict[str, Any], **_: Any
) -> dict[str, Any]:
    """apispec attribute function: a text field of a request body states that it refuses a
    NUL character, as ``StrictSchema`` does (beside any pattern of its own, with ``not``),
    and so do the names in a mapping."""
    if not isinstance(_schema_of(field), StrictSchema):
        return {}
    if isinstance(field, fields.Dict):
        return {"propertyNames": {"pattern": NO_NUL}}
    if not isinstance(field, fields.String):
        return {}
    if "pattern" not in ret:
        return {"pattern": NO_NUL}
    return {"not": {"type": "string", "pattern": "\\u0000"}}


def _schema_of(field: Any) -> Any:
    while field is not None and not isinstance(field, Schema):
        field = getattr(field, "parent", None)
    return field


class WholeNumber(fields.Integer):
    """A whole JSON number: 2 and 2.0 alike (JSON, like JSON Schema's ``integer``, does not
    tell them apart), never ``true`` or ``"2"``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class ProblemSchema(Schema):
    """RFC 9457 problem details; ``errors`` maps fields to messages."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    alerts = fields.List(
        fields.Nested(lambda: RefusedAlertSchema()),
        metadata={"description": "A write refused for safety (422): the alerts that refused it"},
    )


class ActorSchema(Schema):
    id = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)


MAX_DOSE_AMOUNT = 100_000
"""No dose of any drug in any unit comes near this: a generic bound on the number alone
(the domain checks each drug's plausible range)."""
IMPLAUSIBLE_DOSE = f"Implausibly large: no dose in any unit exceeds {MAX_DOSE_AMOUNT}."
EARLIEST_CLINICAL_DATE = date(1900, 1, 1)
"""No clinical time or date a client sends is earlier (nor any living patient's birth)."""
BEFORE_1900 = "Before 1900-01-01: no clinical entry is that old."
MAX_DOSE_COUNT = 100_000
"""More doses than anyone takes in decades of several a day: a count beyond it is a typo."""
IMPLAUSIBLE_COUNT = f"Implausibly large: no adherence report counts more than {MAX_DOSE_COUNT}."
CLINICAL_REFUSALS = frozenset({IMPLAUSIBLE_DOSE, BEFORE_1900, IMPLAUSIBLE_COUNT})
"""Messages of well-formed but clinically impossible values: answered 422, not 400."""


def not_before_1900_time() -> validate.Range:
    earliest = datetime.combine(EARLIEST_CLINICAL_DATE, datetime.min.time(), tzinfo=UTC)
    return validate.Range(min=earliest, error=BEFORE_1900)


def plausible_count() -> validate.Range:
    return validate.Range(max=MAX_DOSE_COUNT, error=IMPLAUSIBLE_COUNT)


LATEST_DUE_DATE = date(2100, 12, 31)
"""No follow-up or goal is planned further ahead: a later due date is a typo."""
AFTER_2100 = "After 2100-12-31: no follow-up or goal is planned that far ahead."
CLINICAL_REFUSALS = CLINICAL_REFUSALS | {AFTER_2100}


def due_time_range() -> validate.And:
    """A due time: not before 1900, not after 2100 (each with its own message)."""
    latest = datetime.combine(LATEST_DUE_DATE, datetime.max.time(), tzinfo=UTC)
    return validate.And(not_before_1900_time(), validate.Range(max=latest, error=AFTER_2100))


def due_date_range() -> validate.And:
    return validate.And(
        not_before_1900_date(), validate.Range(max=LATEST_DUE_DATE, error=AFTER_2100)
    )


def not_before_1900_date() -> validate.Range:
    return validate.Range(min=EARLIEST_CLINICAL_DATE, error=BEFORE_1900)


ZONE_HINT = "Add a time zone, e.g. 2026-12-07T09:00:00Z (UTC) or 2026-12-07T10:00:00+01:00."
# Every aware datetime in a body or a query (here, in requests.py, person.py ...) says how
# to fix a time without a zone, not marshmallow's "Not a valid aware datetime."
fields.AwareDateTime.default_error_messages = {
    **fields.AwareDateTime.default_error_messages,
    "invalid_awareness": ZONE_HINT,
}


class Moment(fields.AwareDateTime):
    """A moment in a query (``as_of``, ``since`` ...), read as UTC: one at the calendar's
    edge that UTC cannot hold (year 1 east of UTC, 9999 west of it) is a 400 naming the
    parameter, never an ``OverflowError`` further in."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Give a moment between the years 1 and 9999 in UTC.") from None


POSITION_MAX = 2**62
"""No log position is larger (PostgreSQL's bigint holds 2**63 - 1)."""


class DoseSchema(StrictSchema):
    amount = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(max=MAX_DOSE_AMOUNT, error=IMPLAUSIBLE_DOSE),
        metadata={
            "minimum": SMALLEST_DOSE,  # the domain refuses a smaller one (422)
            "description": "positive; a dose far beyond any maximum of the drug (more than 10 "
            "times it, or above the pack's absolute ceiling for a drug dosed without a fixed "
            "maximum: lithium, valproate) is refused with 422 on dose.amount",
        },
    )
    unit = fields.String(
        required=True,
        metadata={
            "enum": list(UNITS),
            "description": "mg, mcg, g, mL or units; a combination product whose strength the "
            "drug name states (Symbyax 6/25) is dosed in units: tablets or capsules (the words "
            "tablet(s), tab(s), capsule(s), cap(s) are accepted and stored as units). A dose in "
            "mL of a drug named with its concentration (sertraline 20 mg/mL) is checked as mg",
        },
    )


class AlertBaseSchema(Schema):
    """What every safety alert says, first: as a write returns it and as the plan lists it."""

    id = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.String(required=True)
    message = fields.String(required=True)


class AlertSchema(AlertBaseSchema):
    """A safety alert a write raised."""

    rule_id = fields.String()
    action = fields.String()
    source = fields.String()
    order_ids = fields.List(fields.String())
    due_at = fields.AwareDateTime(allow_none=True)
    blocking = fields.Boolean()


class RefusedAlertSchema(AlertSchema):
    """An alert that refused a write: as an alert a write raised, but without an ``id``
    (nothing was written, so no alert was raised and none can be resolved)."""

    class Meta:
        exclude = ("id",)


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
