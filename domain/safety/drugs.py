"""The pack's drugs and classes, and finding a drug however the prescriber typed it.

Prescribers write "Zoloft", "sertraline HCl 50 mg" or "Effexor XR": all must reach the same
drug, or an interaction would be missed. Names are compared lower-cased, without
punctuation, and with salt and formulation words removed; what still does not match is
reported as not in the pack, never guessed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from domain.safety.records import Record, RulePackError

_SALT_AND_FORM = """
    hydrochloride hcl hydrobromide hbr sodium potassium carbonate citrate succinate fumarate
    maleate mesylate besylate tartrate hemitartrate bitartrate oxalate sulfate sulphate phosphate
    acetate decanoate palmitate monohydrate dihydrate er xr xl sr cr ir la dr ec odt cd
    extended delayed immediate controlled sustained release orally disintegrating tablet tablets
    tab tabs capsule capsules cap caps oral solution suspension liquid syrup injection
    injectable inj patch transdermal depot film concentrate elixir"""
SALT_AND_FORM_WORDS = frozenset(_SALT_AND_FORM.split())
"""Words that name a salt or a formulation, not a different drug."""

_STRENGTH = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|%)?(?=\s|$)")


@dataclass(frozen=True)
class ClassInfo:
    """A drug class the rules refer to (SSRI, strong CYP2D6 inhibitor, QT risk ...)."""

    name: str
    label: str
    description: str


@dataclass(frozen=True)
class DrugInfo:
    """One drug of the pack: its generic name, classes and the names it goes by."""

    name: str  # generic, lower case: the key rules use ("sertraline", "st johns wort")
    display: str  # as written in messages ("sertraline", "St John's wort")
    classes: frozenset[str]
    aliases: tuple[str, ...]
    rxnorm: str | None = None


@functools.lru_cache(maxsize=8192)
def normalise_name(name: str) -> str:
    """Lower case, punctuation removed, spacing collapsed: "St. John's Wort" -> "st johns wort"."""
    text = name.lower().replace("\u2019", "'").replace("_", " ")
    text = re.sub(r"['.]", "", text)
    text = re.sub(r"[^a-z0-9%]+", " ", text)
    return " ".join(text.split())


def without_method(name: str) -> str:
    """A recorded lab test name without its bracketed method, normalised ("eGFR (CKD-EPI)"
    -> "egfr", "CrCl (Cockcroft-Gault)" -> "crcl"): the method does not change what the
    value is about."""
    return normalise_name(re.sub(r"\([^)]*\)", " ", name))


def test_key(name: str, names: Mapping[str, str]) -> str | None:
    """The pack's lab test a recorded name means, with or without its bracketed method."""
    return names.get(normalise_name(name)) or names.get(without_method(name))


def strip_salt_and_form(normalised: str) -> str:
    """The name without salt, formulation and strength words ("bupropion hcl xl 150 mg")."""
    text = _STRENGTH.sub(" ", normalised)
    return " ".join(word for word in text.split() if word not in SALT_AND_FORM_WORDS)


@dataclass(frozen=True)
class Combination:
    """A product of several drugs of the pack (Symbyax: olanzapine and fluoxetine)."""

    name: str  # normalised brand, the key
    display: str
    ingredients: tuple[str, ...]  # generic keys, in the order its strengths are written
    strengths: tuple[tuple[float, ...], ...]  # mg of each ingredient, per marketed strength
    aliases: tuple[str, ...] = ()


class DrugIndex:
    """Drugs (and combination products) by every name they go by, normalised."""

    def __init__(
        self, drugs: Mapping[str, DrugInfo], combinations: Mapping[str, Combination] | None = None
    ) -> None:
        self.drugs = dict(drugs)
        self.combinations = dict(combinations or {})
        self.identities: dict[str, Any] = {}  # typed name -> ``identity.Identity``, memoised
        self._by_name: dict[str, DrugInfo] = {}
        for info in self.drugs.values():
            for name in (info.name, info.display, *info.aliases):
                key = normalise_name(name)
                other = self._by_name.get(key)
                if other is not None and other.name != info.name:
                    raise RulePackError(
                        f"drug {info.name}: field 'aliases' repeats the name {name!r} "
                        f"already used by {other.name}"
                    )
                self._by_name[key] = info
        self._products: dict[str, Combination] = {}
        for product in self.combinations.values():
            for name in (product.name, product.display, *product.aliases):
                key = normalise_name(name)
                if key in self._by_name or self._products.get(key, product) is not product:
                    raise RulePackError(
                        f"combination {product.name}: the name {name!r} is used twice"
                    )
                self._products[key] = product

    def combination(self, name: str) -> Combination | None:
        """The combination product a typed brand means ("Symbyax 6/25"), or None."""
        key = normalise_name(name)
        return self._products.get(key) or self._products.get(strip_salt_and_form(key))

    def find(self, name: str) -> DrugInfo | None:
        """The drug a typed name means, or None when the pack does not know it."""
        key = normalise_name(name)
        found = self._by_name.get(key)
        if found is None:
            found = self._by_name.get(strip_salt_and_form(key))
        return found


def read_classes(raw: Any) -> dict[str, ClassInfo]:
    """The ``classes`` section: class name -> label and description."""
    if not isinstance(raw, Mapping) or not raw:
        raise RulePackError("pack: field 'classes' is missing or empty")
    classes: dict[str, ClassInfo] = {}
    for name, value in raw.items():
        record = Record(value, f"class {name}")
        classes[name] = ClassInfo(name, record.text("label"), record.text("description"))
    return classes


def _named_records(raw: Mapping[str, Any], kind: str, key: str) -> Iterator[tuple[str, Record]]:
    """The entries of a section keyed by name (drugs, combinations), each as a record; a
    key must be written as CareLog normalises it, or no lookup would ever find it."""
    for name, value in raw.items():
        record = Record(value, f"{kind} {name}")
        if normalise_name(name) != name:
            raise RulePackError(f"{kind} {name}: the key must be the normalised {key}")
        yield name, record


def read_drugs(raw: Any, classes: Iterable[str]) -> dict[str, DrugInfo]:
    """The ``drugs`` section: generic name -> classes, aliases, display name, RxNorm code."""
    known = frozenset(classes)
    if not isinstance(raw, Mapping) or not raw:
        raise RulePackError("pack: field 'drugs' is missing or empty")
    drugs: dict[str, DrugInfo] = {}
    for name, record in _named_records(raw, "drug", "generic name"):
        rxnorm = record.text("rxnorm") if record.has("rxnorm") else None
        drugs[name] = DrugInfo(
            name=name,
            display=record.text("display", name),
            classes=frozenset(record.names("classes", known, "class")),
            aliases=record.texts("aliases", ()),
            rxnorm=rxnorm,
        )
    return drugs


def read_combinations(raw: Any, drugs: Mapping[str, DrugInfo]) -> dict[str, Combination]:
    """The optional ``combinations`` section: brand -> ingredients and marketed strengths."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise RulePackError("pack: field 'combinations' must be an object")
    products: dict[str, Combination] = {}
    for name, record in _named_records(raw, "combination", "brand"):
        ingredients = record.names("ingredients", frozenset(drugs), "drug")
        if len(ingredients) < 2:
            raise record.fail("ingredients", "must name at least two drugs")
        strengths = []
        for row in record.raw.get("strengths_mg", []):
            if (
                not isinstance(row, list)
                or len(row) != len(ingredients)
                or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in row
                )
            ):
                raise record.fail("strengths_mg", "must give one positive mg figure per ingredient")
            strengths.append(tuple(float(v) for v in row))
        record.text("source")
        products[name] = Combination(
            name=name,
            display=record.text("display", name),
            ingredients=ingredients,
            strengths=tuple(strengths),
            aliases=record.texts("aliases", ()),
        )
    return products
