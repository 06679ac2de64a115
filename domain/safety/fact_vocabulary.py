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
from dataclasses import dataclass
from typing import Any

from domain.safety.dose_forms import SETTING_FACT
from domain.safety.drugs import normalise_name
from domain.safety.fact_values import (
    ALCOHOL_USE,
    BENIGN_ETHNIC_NEUTROPENIA,
    CLOSED_FACTS,
    HLA_B_1502,
)


@dataclass(frozen=True)
class FactSpec:
    """One fact the rules read: its canonical name, values and accepted wordings."""

    name: str
    description: str
    values: tuple[str, ...]
    wordings: Mapping[str, tuple[str, ...]]  # value -> other ways of saying it
    aliases: tuple[str, ...] = ()  # other names of the fact
    number: tuple[float, float, str] | None = None  # a number (low, high, unit), not a set

    def value_of(self, text: str) -> str | None:
        """The canonical value ``text`` means, or None when it is none of them."""
        if self.number is not None:
            return self._number(text)
        key = normalise_name(text)
        for value in self.values:
            said = (value, *self.wordings.get(value, ()))
            if key in {normalise_name(w) for w in said}:
                return value
        return None

    def _number(self, text: str) -> str | None:
        assert self.number is not None
        low, high, unit = self.number
        raw = text.strip().lower().removesuffix(unit).strip().replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            return None
        return f"{value:g}" if low <= value <= high else None

    def accepted(self) -> dict[str, list[str]]:
        """Each value with its accepted wordings (for the OpenAPI document)."""
        return {v: [v, *self.wordings.get(v, ())] for v in self.values}


YES = ("yes", "y", "true", "present", "1")
NO = ("no", "n", "false", "none", "absent", "0")


def _metaboliser(gene: str) -> FactSpec:
    def said(*words: str) -> tuple[str, ...]:
        return tuple(f"{w} {m}" for w in words for m in ("metaboliser", "metabolizer")) + words

    return FactSpec(
        name=f"{gene}_metaboliser",
        description=f"{gene.upper()} metaboliser status (phenotype from genotyping).",
        values=("poor", "intermediate", "normal", "rapid", "ultrarapid"),
        wordings={
            "poor": (*said("poor"), "pm"),
            "intermediate": (*said("intermediate"), "im"),
            "normal": (*said("normal", "extensive"), "nm", "em"),
            "rapid": (*said("rapid"), "rm"),
            "ultrarapid": (*said("ultrarapid", "ultra rapid", "ultra-rapid"), "um"),
        },
        aliases=(
            f"{gene}_metabolizer",
            f"{gene} metaboliser status",
            f"{gene} metabolizer status",
            f"{gene} phenotype",
            gene,
        ),
    )


def _presence(
    name: str,
    description: str,
    yes: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> FactSpec:
    """A condition stated as a fact: present (yes) or not (no)."""
    return FactSpec(
        name=name,
        description=description,
        values=("yes", "no"),
        wordings={"yes": (*yes, *YES[1:]), "no": NO[1:]},
        aliases=aliases,
    )


FACTS: dict[str, FactSpec] = {
    spec.name: spec
    for spec in (
        FactSpec(
            name="smoking",
            description=(
                "Tobacco smoking (CYP1A2 induction: clozapine and olanzapine levels change "
                "when it starts or stops)."
            ),
            values=("smoker", "non-smoker", "ex-smoker"),
            wordings={
                "smoker": ("current smoker", "smoking", "smokes", "current", *YES),
                "non-smoker": ("nonsmoker", "never", "never smoker", "never smoked", *NO),
                "ex-smoker": (
                    "former smoker",
                    "former",
                    "quit",
                    "quit smoking",
                    "stopped",
                    "stopped smoking",
                    "exsmoker",
                ),
            },
            aliases=("smoking status", "tobacco", "tobacco use", "smoker"),
        ),
        FactSpec(
            name="hepatic_impairment",
            description="Liver impairment (Child-Pugh class where known); labels lower maxima.",
            values=("no", "mild", "moderate", "severe", "yes"),
            wordings={
                "no": ("normal", *NO[1:]),
                "mild": ("child pugh a", "child-pugh a"),
                "moderate": ("child pugh b", "child-pugh b"),
                "severe": ("child pugh c", "child-pugh c"),
                "yes": ("impaired", "unspecified", *YES[1:]),
            },
            aliases=("liver impairment", "hepatic impairment status"),
        ),
        _metaboliser("cyp2c19"),
        _metaboliser("cyp2d6"),
        FactSpec(
            name="asian_ancestry",
            description=(
                "Asian ancestry (HLA-B*15:02 screening before carbamazepine is due for "
                "patients of Asian ancestry)."
            ),
            values=("yes", "no"),
            wordings={"yes": YES[1:], "no": NO[1:]},
            aliases=("asian ancestry", "ancestry asian"),
        ),
        FactSpec(
            name=SETTING_FACT,
            description="Where the patient is treated; inpatient maxima apply only to inpatients.",
            values=("outpatient", "inpatient"),
            wordings={
                "outpatient": ("community", "out-patient", "clinic", "ambulatory"),
                "inpatient": ("in-patient", "ward", "hospital", "admitted"),
            },
            aliases=("setting", "care setting"),
        ),
        FactSpec(
            name="weight_kg",
            description="Body weight in kg, for per-kg maxima (valproate 60 mg/kg/day).",
            values=(),
            wordings={},
            aliases=("weight", "body weight", "weight in kg"),
            number=(0.5, 500.0, "kg"),
        ),
        FactSpec(
            name=ALCOHOL_USE,
            description=(
                "Drinking: none, occasional, regular (most weeks or daily), heavy (heavy or "
                "dependent), stopped_abruptly (withdrawal not yet over)."
            ),
            values=CLOSED_FACTS[ALCOHOL_USE],
            wordings={
                "none": ("no", "never", "abstinent", "teetotal", "does not drink", "n", "false"),
                "occasional": ("occasionally", "social", "socially", "rarely"),
                "regular": ("daily", "most days", "weekly"),
                "heavy": ("dependent", "alcohol dependence", "heavy drinker", "binge"),
                "stopped_abruptly": ("stopped abruptly", "stopped suddenly", "in withdrawal"),
            },
            aliases=("alcohol", "alcohol use", "drinking"),
        ),
        _presence(
            "seizure_disorder",
            "A seizure disorder or a history of seizures (bupropion, clozapine: seizure risk).",
            yes=("epilepsy", "history", "history of seizures", "seizures"),
            aliases=("seizures", "epilepsy", "history of seizures", "seizure history"),
        ),
        _presence(
            "eating_disorder",
            "Bulimia or anorexia nervosa, now or in the past (bupropion: seizure risk).",
            yes=(
                "anorexia",
                "anorexia nervosa",
                "bulimia",
                "bulimia nervosa",
                "history",
            ),
            aliases=("anorexia", "anorexia nervosa", "bulimia", "bulimia nervosa"),
        ),
        _presence(
            "dementia",
            "Dementia (antipsychotics: increased mortality in elderly patients with dementia).",
        ),
        _presence(
            "long_qt",
            "Congenital long QT syndrome (QT-prolonging drugs).",
            yes=("congenital",),
            aliases=("long qt syndrome", "congenital long qt"),
        ),
        _presence(
            "parkinson",
            "Parkinson's disease (most antipsychotics worsen it).",
            aliases=("parkinsons disease", "parkinsons", "parkinson disease"),
        ),
        FactSpec(
            name="polg_mutation",
            description="A POLG mitochondrial disorder (valproate: contraindicated).",
            values=("positive", "negative"),
            wordings={"positive": ("detected", "carrier", *YES), "negative": ("not detected", *NO)},
            aliases=("polg", "polg disease"),
        ),
        FactSpec(
            name="renal_impairment",
            description="Kidney impairment (lithium, renally cleared drugs: lower doses).",
            values=("no", "mild", "moderate", "severe", "yes"),
            wordings={
                "no": ("normal", *NO[1:]),
                "mild": ("ckd 2", "ckd stage 2"),
                "moderate": ("ckd 3", "ckd stage 3"),
                "severe": (
                    "ckd 4",
                    "ckd stage 4",
                    "ckd 5",
                    "ckd stage 5",
                    "dialysis",
                    "esrd",
                    "end stage renal disease",
                ),
                "yes": ("impaired", "unspecified", *YES[1:]),
            },
            aliases=("kidney impairment", "renal impairment status"),
        ),
        FactSpec(
            name=BENIGN_ETHNIC_NEUTROPENIA,
            description=(
                "Benign ethnic neutropenia (Duffy-null associated neutrophil count): "
                "clozapine's BEN ANC table applies."
            ),
            values=CLOSED_FACTS[BENIGN_ETHNIC_NEUTROPENIA],
            wordings={"yes": YES[1:], "no": NO[1:]},
            aliases=("ben", "duffy null associated neutrophil count"),
        ),
        FactSpec(
            name=HLA_B_1502,
            description="HLA-B*15:02 genotype (carbamazepine, oxcarbazepine: SJS/TEN).",
            values=CLOSED_FACTS[HLA_B_1502],
            wordings={
                "positive": ("detected", "carrier", "present", "yes", "true"),
                "negative": ("not detected", "absent", "no", "false"),
            },
            aliases=("hla b 1502", "hla b*15:02", "hla b 15:02", "hla b*1502"),
        ),
        FactSpec(
            name="hla_a_3101",
            description="HLA-A*31:01 genotype (carbamazepine: hypersensitivity reactions).",
            values=("positive", "negative"),
            wordings={
                "positive": ("detected", "carrier", "present", "yes", "true"),
                "negative": ("not detected", "absent", "no", "false"),
            },
            aliases=("hla a 3101", "hla a*31:01", "hla a 31:01", "hla a*3101"),
        ),
        FactSpec(
            name="pregnancy",
            description=(
                "Pregnancy status as a clinical fact (the pregnancy-status entry is preferred: "
                "it carries dates)."
            ),
            values=("pregnant", "not_pregnant", "lactating", "postpartum"),
            wordings={
                "pregnant": YES[:3],
                "not_pregnant": ("not pregnant", *NO[:3]),
                "lactating": ("breastfeeding", "lactation", "nursing"),
                "postpartum": ("post partum", "post-partum"),
            },
            aliases=("pregnant", "pregnancy status"),
        ),
        _presence(
            "breastfeeding",
            "Breastfeeding (lithium, clozapine pass into breast milk).",
            aliases=("lactating", "lactation"),
        ),
        FactSpec(
            name="sex_at_birth",
            description="Sex assigned at birth (the sex-at-birth entry is preferred).",
            values=("female", "male", "intersex", "unknown"),
            wordings={"female": ("f",), "male": ("m",)},
            aliases=("sex", "sex assigned at birth"),
        ),
    )
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
