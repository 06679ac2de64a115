"""The clinical facts the rules read, their allowed values, and the words people use.

A fact is recorded as text ("Poor metabolizer", "stopped smoking"), but a rule matches
exact values ("poor", "non-smoker"): a wording the rule does not know would pass as safe.
So each fact a rule reads has a closed set of values, and the common wordings of each
value are turned into it when the fact is recorded; a value that is none of them is
refused, naming the allowed values. A fact no rule reads (a free clinical note such as
"diet: vegetarian") is kept as typed, and the answer says that no rule reads it.

``facts_read_by`` lists the facts a pack's rules read, so a test can check that every
one of them is here (a rule on a fact with no vocabulary would match free text only).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from domain.safety.dose_forms import SETTING_FACT
from domain.safety.drugs import normalise_name
from domain.safety.fact_spec import FactSpec
from domain.safety.fact_values import ALCOHOL_USE, BENIGN_ETHNIC_NEUTROPENIA, HLA_B_1502
from domain.safety.facts_of_conditions import CONDITIONS
from domain.safety.facts_of_genetics import GENETICS
from domain.safety.facts_of_the_person import PERSON

ORDER = (
    "smoking",
    "hepatic_impairment",
    "cyp2c19_metaboliser",
    "cyp2d6_metaboliser",
    "asian_ancestry",
    SETTING_FACT,
    "weight_kg",
    ALCOHOL_USE,
    "seizure_disorder",
    "eating_disorder",
    "dementia",
    "long_qt",
    "parkinson",
    "polg_mutation",
    "renal_impairment",
    BENIGN_ETHNIC_NEUTROPENIA,
    HLA_B_1502,
    "hla_a_3101",
    "pregnancy",
    "breastfeeding",
    "sex_at_birth",
)
"""The order the facts are listed in (the FactIn schema's description in /openapi.json)."""

FACTS: dict[str, FactSpec] = {
    spec.name: spec
    for spec in sorted((*PERSON, *GENETICS, *CONDITIONS), key=lambda spec: ORDER.index(spec.name))
}
"""Every fact the rule pack reads, by canonical name."""


READ_IN_CODE = frozenset({SETTING_FACT, "weight_kg", "pregnancy", "breastfeeding", "sex_at_birth"})
"""Facts the rule code reads by name rather than through a rule's condition: the care
setting (inpatient maxima, ``dose_forms``) and the weight (per-kg maxima)."""


def fact_spec(name: str) -> FactSpec | None:
    """The fact a name (or one of its aliases, any case) means; None for a free fact."""
    key = normalise_name(name)
    for spec in FACTS.values():
        if key in {normalise_name(n) for n in (spec.name, *spec.aliases)}:
            return spec
    return None


def refusal(spec: FactSpec, text: str) -> str:
    if spec.number is not None:
        low, high, unit = spec.number
        return (
            f"{text!r} is not a value of {spec.name}: give a number of {unit} "
            f"from {low:g} to {high:g}."
        )
    return (
        f"{text!r} is not a value of {spec.name}: use one of {', '.join(spec.values)}. "
        "Common wordings of these (such as 'Poor metabolizer' or 'stopped smoking') are "
        "understood."
    )


def facts_read_by(pack: Any) -> frozenset[str]:
    """The fact names a rule pack's rules read, from any rule holding a ``fact`` field
    (conditions, fact-state and fact-change rules), however deeply nested."""
    found: set[str] = set()
    seen: set[int] = set()

    def walk(item: Any) -> None:
        if id(item) in seen or isinstance(item, (str, bytes, int, float, bool, type(None))):
            return
        seen.add(id(item))
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            fact = getattr(item, "fact", None)
            if isinstance(fact, str):
                found.add(normalise_name(fact).replace(" ", "_"))
            for f in dataclasses.fields(item):
                walk(getattr(item, f.name))
        elif isinstance(item, Mapping):
            for value in item.values():
                walk(value)
        elif isinstance(item, (tuple, list, frozenset, set)):
            for value in item:
                walk(value)

    for f in dataclasses.fields(pack):
        walk(getattr(pack, f.name))
    found.update(READ_IN_CODE)
    return frozenset(found)
