"""Doses, routes and frequencies as a prescriber writes them, checked before they enter the log."""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.errors import InvalidInputError

UNITS = ("mg", "mcg", "g", "mL", "units")
_UNIT_ALIASES = {
    "mg": "mg",
    "mcg": "mcg",
    "µg": "mcg",
    "ug": "mcg",
    "g": "g",
    "ml": "mL",
    "units": "units",
    "unit": "units",
    "iu": "units",
    # tablets and capsules are counted in dose units (API.md: "dosed in units: tablets or
    # capsules"); the word is a synonym, stored as "units"
    "tablet": "units",
    "tablets": "units",
    "tab": "units",
    "tabs": "units",
    "capsule": "units",
    "capsules": "units",
    "cap": "units",
    "caps": "units",
}
ROUTES = (
    "oral",
    "sublingual",
    "buccal",
    "intramuscular",
    "intravenous",
    "subcutaneous",
    "transdermal",
    "intranasal",
    "inhaled",
    "rectal",
    "topical",
)


SMALLEST_DOSE = 1e-6
"""No dose of any drug in any unit (mg, µg, mL ...) is smaller: a smaller amount is a typo
or a probe (1e-300 mg), refused with a field error."""


@dataclass(frozen=True)
class Dose:
    """A positive amount in a unit from a closed set: an unknown unit is never guessed at."""

    amount: float
    unit: str

    @classmethod
    def parse(cls, raw: object, field: str = "dose") -> Dose:
        if not isinstance(raw, dict):
            raise InvalidInputError("A dose needs an amount and a unit.", field)
        return cls(raw.get("amount"), raw.get("unit")).checked(field)  # type: ignore[arg-type]

    def checked(self, field: str = "dose") -> Dose:
        """This dose if its amount is positive and its unit known, with the unit in its
        canonical spelling; else refused naming the field."""
        amount, unit = self.amount, self.unit
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise InvalidInputError("The dose amount must be a number.", f"{field}.amount")
        if not math.isfinite(amount) or amount <= 0:
            raise InvalidInputError(
                f"The dose amount must be a positive number, not {amount}.", f"{field}.amount"
            )
        if amount < SMALLEST_DOSE:
            raise InvalidInputError(
                f"Implausibly small: no dose in any unit is below {SMALLEST_DOSE}.",
                f"{field}.amount",
            )
        if not isinstance(unit, str) or unit.strip().lower() not in _UNIT_ALIASES:
            raise InvalidInputError(
                f"Unknown dose unit {unit!r}: use one of {', '.join(UNITS)}.", f"{field}.unit"
            )
        return Dose(float(amount), _UNIT_ALIASES[unit.strip().lower()])

    def as_dict(self) -> dict[str, float | str]:
        return {"amount": self.amount, "unit": self.unit}

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount.is_integer() else self.amount
        return f"{amount} {self.unit}"


def parse_route(raw: object) -> str:
    """The route of administration, from a closed list."""
    if not isinstance(raw, str) or raw.strip().lower() not in ROUTES:
        raise InvalidInputError(f"Unknown route {raw!r}: use one of {', '.join(ROUTES)}.", "route")
    return raw.strip().lower()


def parse_frequency(raw: object) -> str:
    """A frequency the dose checks can read ("twice daily", "every 8 hours", "at night" ...).

    An unreadable frequency is refused rather than stored: the daily-dose check would
    otherwise have to guess, and ambiguous frequencies are a known source of dosing errors.
    """
    from domain.safety.frequency import FrequencyError, doses_per_day

    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInputError("A frequency is required, e.g. 'once daily'.", "frequency")
    try:
        doses_per_day(raw)
    except FrequencyError as exc:
        raise InvalidInputError(str(exc), "frequency") from None
    return raw.strip()
