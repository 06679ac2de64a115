"""The facts about the person the rules read: smoking, drinking, weight, the care setting,
pregnancy, breastfeeding, sex at birth."""

from __future__ import annotations

from domain.safety.dose_forms import SETTING_FACT
from domain.safety.fact_spec import NO, YES, FactSpec, presence
from domain.safety.fact_values import (
    ALCOHOL_USE,
    CLOSED_FACTS,
)

PERSON: tuple[FactSpec, ...] = (
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
    presence(
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
