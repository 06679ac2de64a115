"""What a typed drug name is made of: one drug, or every ingredient of a combination.

"Symbyax" is olanzapine and fluoxetine; so are "olanzapine/fluoxetine", "olanzapine-
fluoxetine" and "olanzapine and fluoxetine 6/25"; "Zoloft (sertraline)" and "sertraline
(Zoloft)" are sertraline. Each ingredient must meet every interaction, washout, duplicate
and dose rule of its own, or an MAOI beside Symbyax would pass as beside an unknown drug.
A name is read in this order: a drug of the pack; a combination product of the pack; a
name with a bracketed part (both parts read, and when they name different drugs both are
kept, since a rule missed is worse than one too many); a name joined by "/", "+", "-",
"and", "with" (each part read on its own). A part the pack does not know stays unknown
and is reported as such, never dropped.

An ingredient's strength comes from the name ("Symbyax 12/50", "olanzapine 6 mg /
fluoxetine 25 mg") or from a product made in one strength only (Nuedexta 20/10): it is
what lets a combination's dose be split per ingredient.

A liquid's concentration written in the name ("sertraline 20 mg/mL oral concentrate",
"lithium citrate 8 mEq/5 mL") is read before anything else, so that its "/" does not make
the name a combination, and it gives the mg in one mL (``Part.mg_per_ml``): a dose in mL
is then checked as mg. Lithium's strength in mEq is put in mg of lithium carbonate, the
unit its doses are written in (300 mg of the carbonate is 8.12 mEq of lithium; the
label's citrate 8 mEq/5 mL matches 300 mg of the carbonate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.safety.drugs import Combination, DrugIndex, DrugInfo

_PARENS = re.compile(r"^(?P<before>[^()]*)\((?P<inside>[^()]+)\)(?P<after>[^()]*)$")
_NUMBER = r"(\d+(?:\.\d+)?)"
_RATIO = re.compile(
    rf"{_NUMBER}\s*(?:mg)?\s*/\s*{_NUMBER}(?:\s*(?:mg)?\s*/\s*{_NUMBER})?\s*(?:mg)?",
    re.IGNORECASE,
)
_OWN_STRENGTH = re.compile(rf"{_NUMBER}\s*(mcg|mg|g)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:/|\+|&|,|;|\band\b|\bwith\b|\bplus\b|-)\s*", re.IGNORECASE)
_MG = {"mcg": 0.001, "mg": 1.0, "g": 1000.0}
_CONCENTRATION = re.compile(
    rf"{_NUMBER}\s*(mcg|mg|g|meq)\s*(?:/|per)\s*{_NUMBER}?\s*ml\b", re.IGNORECASE
)
MG_PER_MEQ = {"lithium": 300.0 / 8.12}
"""mg of the drug as its doses are written, per mEq: lithium carbonate (8.12 mEq in 300 mg)."""


@dataclass(frozen=True)
class Part:
    """One ingredient of a typed name, as far as the pack knows it."""

    info: DrugInfo | None
    typed: str  # the words that named it ("fluoxetine 25 mg", "Symbyax")
    strength_mg: float | None = None  # mg of this ingredient per dose unit, when known
    smallest_strength_mg: float | None = None  # its smallest marketed strength, if a product
    mg_per_ml: float | None = None  # a liquid's concentration, from the name


@dataclass(frozen=True)
class Identity:
    """What a typed name means: its ingredients and, for a product, its name."""

    parts: tuple[Part, ...]
    product: str | None = None  # the marketed combination it is ("Symbyax"), if one
    conflict: bool = False  # the name's parts named different drugs ("Zoloft (fluoxetine)")

    @property
    def known(self) -> tuple[DrugInfo, ...]:
        return tuple(p.info for p in self.parts if p.info is not None)

    @property
    def single(self) -> DrugInfo | None:
        """The drug, when the name means exactly one drug the pack knows."""
        return self.parts[0].info if len(self.parts) == 1 else None

    def share_problem(self) -> str | None:
        """Why the dose cannot be split per ingredient (None: a single drug, or it can)."""
        if len(self.parts) < 2:
            return None
        if self.conflict:
            return "the name names different drugs, so the dose cannot be given to either"
        if any(p.strength_mg is None for p in self.parts):
            return (
                "the strength of each ingredient is not in the name, so its share of the dose "
                "cannot be worked out (write it with the name, e.g. 'Symbyax 6/25' or "
                "'olanzapine 6 mg/fluoxetine 25 mg', and give the dose in units: tablets or "
                "capsules)"
            )
        return None


def _unknown(typed: str) -> Identity:
    return Identity((Part(None, " ".join(typed.split())),))


def _ratio(typed: str) -> tuple[tuple[float, ...], str]:
    """The strengths written as "6/25" (or "6 mg/25 mg"), and the name without them."""
    found = _RATIO.search(typed)
    if found is None:
        return (), typed
    numbers = tuple(float(n) for n in found.groups() if n is not None)
    return numbers, (typed[: found.start()] + " " + typed[found.end() :]).strip()


def _product(combination: Combination, index: DrugIndex, typed: str) -> Identity:
    ratio, _ = _ratio(typed)
    strengths: tuple[float | None, ...]
    if len(ratio) == len(combination.ingredients):
        strengths = ratio
    elif len(combination.strengths) == 1:
        strengths = combination.strengths[0]
    else:
        strengths = (None,) * len(combination.ingredients)
    smallest = [
        min((row[n] for row in combination.strengths), default=None)
        for n in range(len(combination.ingredients))
    ]
    parts = tuple(
        Part(index.drugs[name], typed, strength, least)
        for name, strength, least in zip(combination.ingredients, strengths, smallest, strict=True)
    )
    return Identity(parts, product=combination.display)


def _bracketed(index: DrugIndex, typed: str) -> Identity | None:
    found = _PARENS.match(typed)
    if found is None:
        return None
    outside = f"{found['before']} {found['after']}".strip()
    inside = found["inside"].strip()
    first = _identify(index, outside) if outside else _unknown(typed)
    second = _identify(index, inside)
    if not second.known:
        return first if first.known else None
    if not first.known:
        return second
    if {i.name for i in first.known} == {i.name for i in second.known}:
        return first
    extra = tuple(p for p in second.parts if p.info not in first.known)
    return Identity(first.parts + extra, conflict=True)


def _joined(index: DrugIndex, typed: str) -> Identity | None:
    ratio, rest = _ratio(typed)
    pieces = [p for p in _SEPARATORS.split(rest) if p and p.strip()]
    if len(pieces) < 2:
        return None
    parts: list[Part] = []
    for piece in pieces:
        own = _OWN_STRENGTH.search(piece)
        strength = float(own.group(1)) * _MG[own.group(2).lower()] if own else None
        info = index.find(piece)
        if info is None or all(p.info is None or p.info.name != info.name for p in parts):
            parts.append(Part(info, " ".join(piece.split()), strength))
    if not any(p.info for p in parts) or len(parts) < 2:
        return None if not any(p.info for p in parts) else Identity((parts[0],))
    if any(p.strength_mg is None for p in parts) and len(ratio) == len(parts):
        parts = [Part(p.info, p.typed, s) for p, s in zip(parts, ratio, strict=True)]
    names = {p.info.name for p in parts if p.info is not None}
    product = next((c for c in index.combinations.values() if set(c.ingredients) == names), None)
    if product is not None and len(names) == len(parts):
        return Identity(tuple(parts), product=product.display)
    return Identity(tuple(parts))


MEMO_SIZE = 4096


def identify(index: DrugIndex, typed: str) -> Identity:
    """The ingredients a typed name means; a name the pack cannot read is one unknown part.
    Memoised per index (every evaluation reads every course's name again)."""
    known: Identity | None = index.identities.get(typed)
    if known is None:
        known = _identify(index, typed)
        if len(index.identities) >= MEMO_SIZE:
            index.identities.clear()
        index.identities[typed] = known
    return known


def _liquid(index: DrugIndex, typed: str) -> Identity | None:
    """A single drug named with its concentration ("lithium citrate 8 mEq/5 mL")."""
    found = _CONCENTRATION.search(typed)
    if found is None:
        return None
    rest = " ".join((typed[: found.start()] + " " + typed[found.end() :]).split())
    inner = _identify(index, rest) if rest else None
    info = inner.single if inner is not None else None
    if info is None:
        return None
    amount, unit, volume = float(found.group(1)), found.group(2).lower(), found.group(3)
    per_ml = amount / (float(volume) if volume else 1.0)
    if unit == "meq":
        factor = MG_PER_MEQ.get(info.name)
        mg_per_ml = per_ml * factor if factor is not None else None
    else:
        mg_per_ml = per_ml * _MG[unit]
    return Identity((Part(info, typed, mg_per_ml=mg_per_ml if mg_per_ml else None),))


def _identify(index: DrugIndex, typed: str) -> Identity:
    liquid = _liquid(index, typed)
    if liquid is not None:
        return liquid
    info = index.find(typed)
    if info is not None:
        return Identity((Part(info, typed),))
    combination = index.combination(typed)
    if combination is not None:
        return _product(combination, index, typed)
    for reader in (_bracketed, _joined):
        found = reader(index, typed)
        if found is not None:
            return found
    return _unknown(typed)
