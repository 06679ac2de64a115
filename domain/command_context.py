"""What every command carries (actor, correlation id, clock) and the input checks they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from domain.actor import Actor
from domain.errors import InvalidInputError

EFFECTIVE_AT_TOLERANCE = timedelta(minutes=5)
"""A clinical time may run this far ahead of the server clock (clock skew), no further."""
EMERGENCY_ACCESS_PERIOD = timedelta(hours=4)


def new_id() -> str:
    return str(uuid4())


@dataclass(frozen=True)
class CommandContext:
    """Who is acting, for which request, and the server's clock at the time."""

    actor: Actor
    correlation_id: str = field(default_factory=new_id)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def require_text(value: Any, field_name: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{what} is required.", field_name)
    return value.strip()


def optional_text(value: Any, field_name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError("Give text here.", field_name)
    return value.strip()


def choice(value: Any, field_name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInputError(f"{value!r} is not one of {', '.join(allowed)}.", field_name)
    return str(value)


def text_list(raw: Any, field_name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(x, str) for x in raw):
        raise InvalidInputError("Give a list of texts.", field_name)
    return [x.strip() for x in raw if x.strip()]


def parse_birth_date(raw: Any, now: datetime) -> date:
    try:
        born = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        born = None
    if born is None:
        raise InvalidInputError("The birth date must be a date like 1980-04-30.", "birth_date")
    if born > now.date():
        raise InvalidInputError("The birth date is in the future.", "birth_date")
    if born.year < 1900:
        raise InvalidInputError("The birth date is before 1900.", "birth_date")
    return born


def parse_time(raw: Any, field_name: str) -> datetime:
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
    return value.astimezone(UTC)
