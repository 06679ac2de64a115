"""Indication-specific maxima: which labelled indication an order is for.

Labels give different maxima per indication (clonazepam 4 mg/day for panic disorder but
20 mg/day for seizures; quetiapine 300 mg/day for bipolar depression, 800 for mania), so
the order's indication is read: by words ("panic") and by ICD-10 codes ("F41.0"), the first
matching entry of the rule winning (specific entries are listed first). An indication
that matches none, or none given, leaves the rule's general maximum in force, and the
alert says which indication that maximum assumes; where a rule asks for it
(``unknown_indication_note``), a dose above a lower indication's maximum is reported as
needing the indication (moderate), as an unknown formulation is.

Where a label's indication maximum differs by formulation (paroxetine for MDD: 50 mg/day
IR, 62.5 mg/day CR), the entry lists the forms with their own figure (``forms``); the
entry's ``max_mg_per_day`` holds for every other form of the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from domain.safety.records import Record

_CODE = re.compile(r"\b([A-TV-Z])\s?(\d{2})(?:\.?([0-9A-Z]{1,4}))?\b")


@dataclass(frozen=True)
class IndicationMax:
    """The maximum for one labelled indication, and how to recognise it."""

    name: str  # "panic disorder"
    max_per_day: float
    words: tuple[str, ...]  # word starts, lower case ("panic", "epilep")
    icd10: tuple[str, ...]  # code prefixes ("F41.0", "G40")
    forms: tuple[tuple[str, float], ...] = ()  # the rule's forms with a figure of their own

    def max_for(self, form: str) -> float:
        """The maximum for this indication in one of the rule's formulations."""
        return dict(self.forms).get(form, self.max_per_day)

    def matches(self, indication: str) -> bool:
        text = " ".join(indication.lower().split())
        if any(re.search(rf"\b{re.escape(word)}", text) for word in self.words):
            return True
        return any(code.startswith(prefix) for code in codes(indication) for prefix in self.icd10)


def codes(text: str) -> list[str]:
    """ICD-10 codes written in the text, with their dot: "f410" and "F41.0" -> "F41.0"."""
    found = []
    for letter, digits, rest in _CODE.findall(text.upper()):
        found.append(f"{letter}{digits}" + (f".{rest}" if rest else ""))
    return found


def read_indications(record: Record) -> tuple[IndicationMax, ...]:
    entries = []
    for item in record.records("indications"):
        words = tuple(w.lower() for w in item.texts("words", ()))
        icd10 = tuple(c.upper() for c in item.texts("icd10", ()))
        if not words and not icd10:
            raise item.fail("words", "and 'icd10' are both empty: the entry matches nothing")
        maximum = item.number("max_mg_per_day")
        if maximum <= 0:
            raise item.fail("max_mg_per_day", "must be positive")
        forms = _forms(item)
        entries.append(IndicationMax(item.text("name"), maximum, words, icd10, forms))
    return tuple(entries)


def _forms(item: Record) -> tuple[tuple[str, float], ...]:
    raw = item.raw.get("forms", {})
    if not isinstance(raw, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in raw.values()
    ):
        raise item.fail("forms", "must map formulations to positive maxima in mg/day")
    return tuple(sorted((str(k), float(v)) for k, v in raw.items()))


def indication_of(
    entries: tuple[IndicationMax, ...], indications: Iterable[str | None]
) -> tuple[IndicationMax | None, list[str]]:
    """The entry every order's indication matches (the highest, if they differ), and the
    indications that matched none (empty when all matched); (None, [...]) if any did not."""
    matched, unmatched = [], []
    for text in indications:
        entry = next((e for e in entries if text and e.matches(text)), None)
        if entry is None:
            unmatched.append((text or "").strip())
        else:
            matched.append(entry)
    if unmatched or not matched:
        return None, unmatched
    return max(matched, key=lambda e: e.max_per_day), []
