"""Minimum adequate antidepressant doses: data records with their sources.

A trial counts as adequate when the daily dose is at or above the drug's minimum
adequate dose for at least six weeks (ATRQ; CLINICAL_REFERENCE "Measurement-based care").
The figures live in ``adequate_doses.json`` beside this module, one record per drug with
its source and evidence grade, so a pharmacist reviews them without reading code. A
drug without a record has no adequacy judgement ("unknown"), never a guessed one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypedDict

ADEQUATE_WEEKS = 6
"""An adequate trial: at or above the minimum adequate dose for this many weeks."""


@dataclass(frozen=True)
class AdequateDose:
    drug: str  # the rule pack's generic name
    min_mg_per_day: float
    source: str
    evidence: str  # "V" checked against the cited text; "K" as commonly known


class AdequateDoseRecord(TypedDict):
    """One record of ``adequate_doses.json`` (checked as it is read)."""

    drug: str
    min_mg_per_day: float
    source: str
    evidence: str


class AdequateDosesFile(TypedDict):
    """``adequate_doses.json``: the records."""

    doses: list[AdequateDoseRecord]


def read_adequate_doses(raw: AdequateDosesFile) -> dict[str, AdequateDose]:
    """The records by drug; a malformed record is refused whole, naming the drug."""
    out: dict[str, AdequateDose] = {}
    for item in raw["doses"]:
        drug = str(item["drug"])
        amount = item["min_mg_per_day"]
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            raise ValueError(f"adequate dose of {drug}: min_mg_per_day must be positive")
        if item.get("evidence") not in {"V", "K"} or not str(item.get("source", "")).strip():
            raise ValueError(f"adequate dose of {drug}: needs a source and evidence V or K")
        if drug in out:
            raise ValueError(f"adequate dose of {drug} is listed twice")
        out[drug] = AdequateDose(drug, float(amount), str(item["source"]), item["evidence"])
    return out


@cache
def adequate_doses() -> dict[str, AdequateDose]:
    text = resources.files("domain").joinpath("adequate_doses.json").read_text("utf-8")
    return read_adequate_doses(json.loads(text))
