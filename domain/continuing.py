"""Continuing therapy: a prescription that takes over a course established elsewhere.

A patient transferred in, stable on clozapine for three years, is not starting clozapine:
the start-dose and titration rules must not fire, and the monitoring schedule runs from
the true start (monthly ANC after the first year), with no baseline "due" years ago. The
order says so with ``continuing``: the date the therapy began and where it came from
(another hospital, the GP, an earlier admission). The date is checked here; the rules
read it through ``MedicationCourse.continuing_since``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from domain.command_context import optional_text
from domain.errors import InvalidInputError

FIELD = "continuing"


def continuing_therapy(
    raw: object, starts: datetime, birth_date: str | None
) -> dict[str, str] | None:
    """``{"since": "YYYY-MM-DD", "source": text}`` as recorded, or None (a new start).
    ``since`` is required, not after the order takes effect and not before birth."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInputError("Give continuing therapy as {since, source}.", FIELD)
    unknown = set(raw) - {"since", "source"}
    if unknown:
        raise InvalidInputError(f"Unknown field(s) {', '.join(sorted(unknown))}.", FIELD)
    since_raw = raw.get("since")
    if isinstance(since_raw, datetime):
        since_raw = since_raw.date()
    try:
        since = since_raw if isinstance(since_raw, date) else date.fromisoformat(str(since_raw))
    except ValueError:
        raise InvalidInputError(
            "since: the date the therapy began, as YYYY-MM-DD.", f"{FIELD}.since"
        ) from None
    if since > starts.date():
        raise InvalidInputError(
            f"since ({since.isoformat()}) is after this order takes effect "
            f"({starts.date().isoformat()}): a continuing therapy began before it.",
            f"{FIELD}.since",
        )
    if birth_date and since < date.fromisoformat(birth_date):
        raise InvalidInputError("since is before the patient's birth date.", f"{FIELD}.since")
    source = optional_text(raw.get("source"), f"{FIELD}.source")
    if len(source) > 500:
        raise InvalidInputError("source: at most 500 characters.", f"{FIELD}.source")
    return {"since": since.isoformat(), "source": source}


def since_of(continuing: Mapping[str, object] | None) -> date | None:
    """The true start of a continuing order's therapy (None: the order is the start)."""
    if not continuing or not continuing.get("since"):
        return None
    return date.fromisoformat(str(continuing["since"]))
