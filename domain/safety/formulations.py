"""The formulation a prescriber's typed drug name states: "Effexor XR", "bupropion SR".

Maximum doses differ by formulation (bupropion SR 400 mg/day, XL 450 mg/day), so the form
typed with the name is kept with the order. Only what the name says is read, never guessed
from a brand: "Wellbutrin" alone has no formulation. "ER" and "extended release" are kept
as ER, because they name different forms of different drugs (venlafaxine XR, paroxetine
CR, and either bupropion SR or XL); a dose-limit rule says which of its forms ER means. A
name with two contradicting forms ("bupropion SR XL") states none.
"""

from __future__ import annotations

import re

from domain.safety.drugs import normalise_name

FORMULATIONS = ("IR", "SR", "XR", "XL", "CR", "ER", "ODT", "depot")
"""The formulations an order may carry; None on an order means not given."""
EXTENDED = frozenset({"SR", "XR", "XL", "CR"})
"""The specific extended-release forms that ER may be written with."""

_WORDS = {
    "ir": "IR", "immediate release": "IR", "sr": "SR", "sustained release": "SR",
    "xr": "XR", "xl": "XL", "cr": "CR", "controlled release": "CR", "er": "ER",
    "extended release": "ER", "odt": "ODT", "orally disintegrating": "ODT", "depot": "depot",
}  # fmt: skip
_PATTERN = re.compile(
    r"\b(" + "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True)) + r")\b"
)


def formulation_in(typed: str) -> str | None:
    """The formulation a typed name states ("Effexor XR" -> "XR"), or None.

    A specific extended-release form wins over the umbrella ER, as generic labels write
    "bupropion extended-release tablets (SR)"; two different forms contradict each other.
    """
    found = {_WORDS[match] for match in _PATTERN.findall(normalise_name(typed))}
    specific = found - {"ER"}
    if len(specific) > 1 or ("ER" in found and specific - EXTENDED):
        return None
    if specific:
        return specific.pop()
    return "ER" if found else None
