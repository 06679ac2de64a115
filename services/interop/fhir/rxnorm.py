"""The RxNorm codes CareLog exports for a drug: the ingredient's RxCUI (TTY IN) for the
generic it resolved, and the brand name's RxCUI (TTY BN) when the prescription named a brand.

Both come from ``rxnorm.json``, where every code names the public listing it was checked
against; a drug or brand without a checked code has none (a wrong code is worse than none:
a receiver would reconcile the order against another drug).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from domain.safety.drugs import normalise_name, strip_salt_and_form
from domain.safety.formulations import formulation_in

RXNORM_FILE = Path(__file__).with_name("rxnorm.json")
_STRENGTH = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|%)?(?=\s|$)")


@dataclass(frozen=True)
class Brand:
    """A brand name (RxNorm TTY BN) of a pack drug or combination: a receiver's formulary
    matches the brand prescribed by it, beside the ingredient code."""

    name: str  # as RxNorm writes it ("Effexor XR")
    code: str
    ingredients: frozenset[str]  # the pack's generic names it contains


def _table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RXNORM_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def rxnorm_ingredients() -> dict[str, str]:
    """Generic name -> RxNorm ingredient RxCUI (``rxnorm.json``, source RxNorm (NLM))."""
    return {str(k): str(c) for k, c in _table()["ingredients"].items()}


@lru_cache(maxsize=1)
def rxnorm_brands() -> dict[str, Brand]:
    """Normalised brand name -> its RxNorm brand-name concept."""
    return brands_by_name(
        Brand(str(name), str(entry["code"]), frozenset(entry["ingredients"]))
        for name, entry in _table().get("brands", {}).items()
    )


def brands_by_name(brands: Iterable[Brand]) -> dict[str, Brand]:
    """Brands keyed as a typed name is looked up (normalised)."""
    return {normalise_name(brand.name): brand for brand in brands}


def brand_named(drug: Mapping[str, Any], brands: Mapping[str, Brand] | None = None) -> Brand | None:
    """The brand a prescription named, when CareLog has its checked RxNorm code and it
    contains what CareLog resolved the name to (so "Zoloft" codes a sertraline order and
    nothing else); None for a generic name or a brand without a checked code.

    The typed name is read as written, then without its strength ("Effexor XR 75 mg"), then
    without salt and dose-form words ("Zoloft 50 mg tablet") unless it states a release form:
    "Wellbutrin XL" is not the brand Wellbutrin, whose products are other forms."""
    typed = normalise_name(str(drug.get("name") or ""))
    brands = rxnorm_brands() if brands is None else brands
    keys = [typed, " ".join(_STRENGTH.sub(" ", typed).split())]
    if formulation_in(typed) is None:
        keys.append(strip_salt_and_form(typed))
    for key in keys:
        brand = brands.get(key)
        if brand is not None:
            generic = drug.get("generic")
            contains = set(drug.get("ingredients") or ([generic] if generic else []))
            return brand if contains == set(brand.ingredients) else None
    return None
