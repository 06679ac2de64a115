"""Request bodies. Shape and types are checked here (400); clinical meaning (dose > 0,
known unit, active order ...) by the domain (422)."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import ValidationError, fields, validate

from domain.actor import CLINICAL_ROLES as ROLES
from domain.alert_resolution import ACTIONS as ALERT_ACTIONS
from domain.alert_resolution import RISK_RESULTS
from domain.dose import ROUTES
from domain.patient_commands import (
    CONSENT_DECISIONS,
    CONSENT_SCOPES,
    GOAL_STATUSES,
    MODALITIES,
    NOTE_KINDS,
    RESOLUTIONS,
    SEVERITIES,
)
from domain.problem_list import SEXES_AT_BIRTH
from domain.safety.fact_vocabulary import FACTS
from domain.scoring import ALL_INSTRUMENTS, ANSWER_CODES, INSTRUMENTS
from web.schemas.common import (
    BLANK,
    IMPLAUSIBLE_COUNT,
    IMPLAUSIBLE_DOSE,
    MAX_DOSE_AMOUNT,
    MAX_DOSE_COUNT,
    NO_NUL,
    NOT_BLANK,
    DoseSchema,
    StrictSchema,
    WholeNumber,
    due_date_range,
    due_time_range,
    not_before_1900_date,
    not_before_1900_time,
    plausible_count,
)

CLINICAL_ROLES = tuple(sorted(str(role) for role in ROLES))

FREQUENCY = {
    "minLength": 1,
    "examples": ["once daily", "twice daily", "every 8 hours", "at night", "as needed"],
    "description": "As a prescriber writes it, in a form the dose checks can read: once or "
    "twice daily, 3 times a day, every 8 hours, every other day, weekly, bid/tid/qid, at "
    "night, morning and night, as needed ...; one they cannot read is refused with 422.",
}
"""A frequency is a small grammar (domain/safety/frequency.py), not a list: documented by
its examples, checked by the domain."""


def domain_enum(values: tuple[str, ...], why: str = "") -> dict[str, object]:
    """A vocabulary the domain checks (422 naming the field if outside it), documented as
    the enum it is."""
    return {"enum": list(values), **({"description": why} if why else {})}


def text(required: bool = True, min_length: int = 0, max_length: int = 20000) -> fields.String:
    return fields.String(
        required=required, validate=validate.Length(min=min_length, max=max_length)
    )


def when(required: bool = False) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=required, validate=not_before_1900_time())


def day(required: bool = False) -> fields.Date:
    """A clinical date (not a birth date, which the domain checks with its own message)."""
    return fields.Date(required=required, validate=not_before_1900_date())


class PatientIn(StrictSchema):
    external_id = text(min_length=1, max_length=200)
    name = text(min_length=1, max_length=500)
    birth_date = fields.Date(required=True)
    allergies = fields.List(fields.String(validate=validate.Length(max=200)))
    effective_at = when()
    sex_at_birth = fields.String(
        metadata=domain_enum(
            SEXES_AT_BIRTH,
            "optional; read by label rules (pregnancy prevention); 422 if outside the set",
        ),
    )


class CareTeamMemberIn(StrictSchema):
    clinician_id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(CLINICAL_ROLES))
    effective_at = when()


class ReasonIn(StrictSchema):
    reason = text()


class ConsentIn(StrictSchema):
    scope = fields.String(required=True, validate=validate.OneOf(CONSENT_SCOPES))
    decision = fields.String(required=True, validate=validate.OneOf(CONSENT_DECISIONS))
    note = text(required=False)
    effective_at = when()


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


class ContinuingIn(StrictSchema):
    """The order continues established therapy (a transfer of care): start-dose and
    titration rules do not fire, monitoring runs from ``since``."""

    since = fields.Date(
        required=True, metadata={"description": "When the patient began this therapy."}
    )
    source = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": 'Where it was established, e.g. "transfer from X hospital".'},
    )


class MedicationIn(StrictSchema):
    drug = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dose = fields.Nested(DoseSchema, required=True)
    frequency = fields.String(required=True, metadata=FREQUENCY)
    route = fields.String(required=True, metadata=domain_enum(ROUTES))
    indication = text()
    instructions = text(required=False)
    effective_at = when()
    override_reason = text(required=False)
    continuing = fields.Nested(ContinuingIn)
    rxnorm = fields.String(
        validate=validate.Regexp(r"^[0-9]{1,10}$", error="An RxNorm RxCUI is 1 to 10 digits."),
        metadata={
            "description": "optional RxNorm RxCUI of the product prescribed (e.g. 36437); "
            "exported in FHIR beside the ingredient code CareLog resolves. 422 when it is "
            "the ingredient code of another drug than the one named (or of one ingredient "
            "of a combination)"
        },
    )


class DoseChangeIn(StrictSchema):
    dose = fields.Nested(DoseSchema, required=True)
    frequency = fields.String(metadata=FREQUENCY)
    reason = text()
    effective_at = when()
    override_reason = text(required=False)


class DiscontinuationIn(StrictSchema):
    reason = text()
    taper = text(required=False)
    effective_at = when()
    override_reason = text(required=False)


class SideEffectIn(StrictSchema):
    order_id = fields.String()
    effect = text()
    severity = fields.String(
        required=True,
        validate=validate.OneOf(
            SEVERITIES,
            error="Choose how severe it is: mild (noticed, daily life goes on as usual), "
            "moderate (gets in the way of daily life) or severe (stops daily activities or "
            "needs urgent care).",
        ),
        metadata={"description": "mild, moderate or severe"},
    )
    onset = fields.String()
    action_taken = text(required=False)
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


TEXT_VALUE = {"type": "string", "pattern": NO_NUL}
CORRECTED_VALUE = {
    "anyOf": [
        TEXT_VALUE,
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"anyOf": [TEXT_VALUE, {"type": "number"}]}},
        {"$ref": "#/components/schemas/Dose"},
    ]
}
"""What a corrected field holds: a text, a number, a list (allergies, item scores ...) or
a dose; never a NUL character (``StrictSchema``)."""


class CorrectionIn(StrictSchema):
    event_id = fields.String(required=True)
    corrected_fields = fields.Dict(
        keys=fields.String(),
        required=True,
        data_key="fields",
        validate=lambda f: plausible(f),
        metadata={
            "description": "The entry's fields to correct, with their new values (which "
            "fields an entry has: the `*In` schema it was written with); a field the entry "
            "cannot have corrected is a 422 naming it.",
            "additionalProperties": CORRECTED_VALUE,
        },
    )
    reason = text()


def plausible(corrected: dict[str, Any]) -> bool:
    """A corrected dose or dose count within the same generic bounds as a new entry's."""
    dose = corrected.get("dose")
    amount = dose.get("amount") if isinstance(dose, dict) else None
    if (
        isinstance(amount, (int, float))
        and not isinstance(amount, bool)
        and amount > MAX_DOSE_AMOUNT
    ):
        raise ValidationError(IMPLAUSIBLE_DOSE)
    for name in ("doses_taken", "doses_missed"):
        count = corrected.get(name)
        if isinstance(count, int) and not isinstance(count, bool) and count > MAX_DOSE_COUNT:
            raise ValidationError(IMPLAUSIBLE_COUNT)
    return True


class AdherenceIn(StrictSchema):
    order_id = fields.String(required=True)
    doses_taken = WholeNumber(required=True, validate=plausible_count())
    doses_missed = WholeNumber(required=True, validate=plausible_count())
    period_start = day(required=True)
    period_end = day(required=True)
    effective_at = when()


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


def _facts_described() -> str:
    return "; ".join(f"{spec.name}: {', '.join(spec.values)}" for spec in FACTS.values())


class FactIn(StrictSchema):
    """A clinical fact. The facts the rules read take only their allowed values (listed in
    ``x-facts-read-by-rules`` with the wordings normalised to each); any other fact name
    is accepted as a free fact, and the answer's ``warnings`` say that no rule reads it."""

    fact = fields.String(
        required=True,
        metadata={
            "description": "The fact's name (aliases such as 'CYP2C19 metabolizer status' "
            "are understood). Read by the rules: " + ", ".join(FACTS) + ".",
            "examples": list(FACTS),
            "x-facts-read-by-rules": {
                spec.name: {
                    "description": spec.description,
                    "values": list(spec.values),
                    "wordings": spec.accepted(),
                    "aliases": list(spec.aliases),
                }
                for spec in FACTS.values()
            },
        },
    )
    value = fields.String(
        required=True,
        metadata={
            "description": "For a fact the rules read, one of its values (else 422 naming "
            "them): " + _facts_described() + "."
        },
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
