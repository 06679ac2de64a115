"""The checks of a command's fields that need no patient record, each run on its own.

A command stops at its first refusal, which is right for the log but makes a form a
guessing game: a follow-up with a past date and no purpose would be refused twice, one
round each. ``field_errors`` runs the checks a command makes of its fields that read
nothing but the field and the clock, all of them, so a form can show every problem at
once. The command runs the same checks again when it is sent, with the rules that need
the record (care team, orders, birth date).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from domain.command_context import (
    CommandContext,
    choice,
    effective_time,
    future_due_time,
    require_text,
)
from domain.errors import InvalidInputError
from domain.patient_commands import MODALITIES, NOTE_KINDS, SEVERITIES
from domain.scoring import score

Check = Callable[[CommandContext, Mapping[str, object]], object]


def _effective(ctx: CommandContext, fields: Mapping[str, object]) -> object:
    return effective_time(ctx, fields.get("effective_at"))


def _text(name: str, what: str) -> Check:
    return lambda _ctx, fields: require_text(fields.get(name), name, what)


def _choice(name: str, allowed: tuple[str, ...]) -> Check:
    return lambda _ctx, fields: choice(fields.get(name), name, allowed)


CHECKS: dict[str, dict[str, Check]] = {
    "record_assessment": {
        "item_scores": lambda _ctx, f: score(f.get("instrument"), f.get("item_scores") or []),
        "effective_at": _effective,
    },
    "add_note": {
        "kind": _choice("kind", NOTE_KINDS),
        "modality": _choice("modality", MODALITIES),
        "text": _text("text", "The note text"),
        "effective_at": _effective,
    },
    "report_side_effect": {
        "effect": _text("effect", "The side effect"),
        "severity": _choice("severity", SEVERITIES),
        "effective_at": _effective,
    },
    "schedule_follow_up": {
        "due_at": lambda ctx, f: future_due_time(ctx, f.get("due_at")),
        "purpose": _text("purpose", "A purpose"),
        "effective_at": _effective,
    },
    "complete_follow_up": {
        "outcome": _text("outcome", "An outcome"),
        "effective_at": _effective,
    },
}
"""Per command, its record-free field checks, named by the field each is about."""


def field_errors(
    command: str,
    ctx: CommandContext,
    fields: Mapping[str, object],
    skip: frozenset[str] = frozenset(),
) -> list[InvalidInputError]:
    """Every refusal of ``command``'s record-free checks of ``fields`` (none for a command
    with no such checks), leaving out the checks of fields in ``skip`` (already refused)."""
    found: list[InvalidInputError] = []
    for name, check in CHECKS.get(command, {}).items():
        if name in skip:
            continue
        try:
            check(ctx, fields)
        except InvalidInputError as exc:
            found.append(exc)
    return found
