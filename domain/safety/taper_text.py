"""Whether the taper text given with a discontinuation is a schedule at all.

Any non-blank text used to satisfy the taper rules, so "none needed" or "no taper" passed
as a taper. A schedule must say something checkable: at least one number (a dose step or
a duration), and it must not be an obvious refusal of a taper ("none", "n/a", "not
needed", "no taper", "stopped abruptly"). Deliberately pragmatic: it is a free-text field,
so this catches the negatives clinicians actually type, not every possible one.
"""

from __future__ import annotations

import re

_NEGATIVE_START = re.compile(
    r"(none|nil|nope|n/?a|no|not|abrupt(ly)?|cold turkey"
    r"|stop(ped)? (abruptly|immediately|at once|now))\b"
)
_NEGATIVE_ANYWHERE = re.compile(
    r"\b(no taper(ing)?|taper(ing)? (is )?not|without (a )?taper(ing)?|not (needed|required|"
    r"necessary|applicable)|none (needed|required|given)|n/a)(\b|$)"
)
_A_NUMBER = re.compile(r"[1-9]")


def is_taper_schedule(text: str | None) -> bool:
    """True if ``text`` describes a taper (a step or a duration), not its absence."""
    words = " ".join((text or "").lower().split())
    if not words or not _A_NUMBER.search(words):
        return False
    return not (_NEGATIVE_START.match(words) or _NEGATIVE_ANYWHERE.search(words))


def why_not_a_schedule(text: str | None) -> str:
    """The sentence added to an abrupt-stop message when a taper text was given but is
    not a schedule ("" when no text was given at all)."""
    given = " ".join((text or "").split())
    if not given:
        return ""
    return f' The taper given ("{given}") is not a schedule: give the dose steps or the duration.'
