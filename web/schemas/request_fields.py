"""The field kinds the write bodies (web/schemas/*_in.py) share: texts, clinical times and
dates, the vocabularies the domain checks, the frequency grammar's documentation.

Shape and types are checked by the bodies (400); clinical meaning (dose > 0, known unit,
active order ...) by the domain (422)."""

from __future__ import annotations

from marshmallow import fields, validate

from domain.actor import CLINICAL_ROLES as ROLES
from web.schemas.common import (
    not_before_1900_date,
    not_before_1900_time,
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
