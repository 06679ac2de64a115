"""Write bodies whose values are open-ended: corrections of earlier entries (any field's
value, checked for plausibility) and clinical facts (the rules' vocabulary)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from domain.safety.fact_vocabulary import FACTS
from web.schemas.common import (
    IMPLAUSIBLE_COUNT,
    IMPLAUSIBLE_DOSE,
    MAX_DOSE_AMOUNT,
    MAX_DOSE_COUNT,
    NO_NUL,
    StrictSchema,
)
from web.schemas.request_fields import text, when

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
