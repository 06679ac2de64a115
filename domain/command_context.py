"""What every command carries (actor, correlation id, clock) and the input checks they share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from domain.actor import Actor
from domain.errors import InvalidInputError

EFFECTIVE_AT_TOLERANCE = timedelta(minutes=5)
"""A clinical time may run this far ahead of the server clock (clock skew), no further."""
EMERGENCY_ACCESS_PERIOD = timedelta(hours=4)
EARLIEST_CLINICAL_YEAR = 1900
"""No clinical time is earlier (nor any living patient's birth date)."""


def new_id() -> str:
    return str(uuid4())


@dataclass(frozen=True)
class CommandContext:
    """Who is acting, for which request, and the server's clock at the time."""

    actor: Actor
    correlation_id: str = field(default_factory=new_id)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def require_id(value: object, field_name: str, what: str) -> str:
    """An id CareLog issued (order, goal, alert, follow-up, clinician): a non-empty text."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} is required.", field_name)
    return value


def effective_time(ctx: CommandContext, raw: object) -> datetime:
    """When it happened clinically: now by default, earlier for a late entry, never later
    than now plus the clock-skew tolerance."""
    if raw is None:
        return ctx.now
    when = parse_time(raw, "effective_at")
    if when > ctx.now + EFFECTIVE_AT_TOLERANCE:
        raise InvalidInputError(
            "effective_at is in the future: record what has happened, not what is planned.",
            "effective_at",
        )
    return when


def future_due_time(ctx: CommandContext, raw: object, field_name: str = "due_at") -> datetime:
    """A due time for something still to happen: a real time, in the future."""
    due = parse_time(raw, field_name)
    check_due(due.date(), field_name)
    if due < ctx.now:
        raise InvalidInputError("A follow-up must be due in the future.", field_name)
    return due


def finite_number(value: object, field_name: str, message: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(message, field_name)
    return float(value)


def require_text(value: object, field_name: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} is required.", field_name)
    return value.strip()


def optional_text(value: object, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError("Give text here.", field_name)
    return value.strip()


def choice(value: object, field_name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{value!r} is not one of {', '.join(allowed)}.", field_name)
    return str(value)


def text_list(raw: object, field_name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(x, str) for x in raw):
        raise InvalidInputError("Give a list of texts.", field_name)
    return [x.strip() for x in raw if x.strip()]


def parse_birth_date(raw: date | str, now: datetime) -> date:
    """A birth date (typed by the HTTP schema, or ISO text in a correction)."""
    try:
        born = (
            raw
            if isinstance(raw, date)
            else date.fromisoformat(raw)
            if isinstance(raw, str)
            else None
        )
    except ValueError:
        born = None
    if born is None:
        raise InvalidInputError("The birth date must be a date like 1980-04-30.", "birth_date")
    if born > now.date():
        raise InvalidInputError("The birth date is in the future.", "birth_date")
    if born.year < 1900:
        raise InvalidInputError("The birth date is before 1900.", "birth_date")
    return born


def parse_time(raw: object, field_name: str) -> datetime:
    """An ISO 8601 time with a zone; naive times are refused, never guessed."""
    value: datetime | None = raw if isinstance(raw, datetime) else None
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
    if value is None:
        raise InvalidInputError("Give a time like 2026-03-01T09:30:00Z.", field_name)
    if value.tzinfo is None:
        raise InvalidInputError("The time needs a zone, e.g. 'Z' or '+01:00'.", field_name)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        if value.year > EARLIEST_CLINICAL_YEAR:
            raise InvalidInputError(
                "Beyond 9999-12-31 in UTC: give a time CareLog can hold.", field_name
            ) from None
        value = None
    if value is None or value.year < EARLIEST_CLINICAL_YEAR:
        raise InvalidInputError("Before 1900-01-01: no clinical entry is that old.", field_name)
    return value


LATEST_DUE_YEAR = 2100
"""No follow-up or goal is planned beyond 2100: a later due date is a typo (and one near
9999-12-31 would overflow any arithmetic on it)."""


def check_due(day: date, field_name: str) -> None:
    """Refuse a due date or time after 2100-12-31, naming the field."""
    if day.year > LATEST_DUE_YEAR:
        raise InvalidInputError(
            "After 2100-12-31: no follow-up or goal is planned that far ahead.", field_name
        )


LARGEST_LAB_VALUE = 1e7
"""No laboratory value or measurement comes near ten million in its own unit (the largest
real counts, platelets or white cells per µL in thrombocythaemia or leukaemia, stay below
a few million), so a larger magnitude (sodium 1e11) is a typo; refused naming the field."""


def plausible_lab_value(value: float, field_name: str) -> float:
    if abs(value) > LARGEST_LAB_VALUE:
        raise InvalidInputError(
            f"Implausible: no lab value's magnitude exceeds {LARGEST_LAB_VALUE:g}.", field_name
        )
    return value


LONGEST_TEXT = {"name": 500}
"""A patient's name is at most 500 characters (as the HTTP schema says); other free text of
a correction at most 20 000, like a new entry's."""
LONGEST_FREE_TEXT = 20_000


def bounded_text(value: str, field_name: str) -> str:
    limit = LONGEST_TEXT.get(field_name, LONGEST_FREE_TEXT)
    if len(value) > limit:
        raise InvalidInputError(f"Longer than {limit} characters.", field_name)
    return value
