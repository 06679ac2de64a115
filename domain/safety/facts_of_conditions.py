"""The conditions the rules read as facts (present or not), and organ impairment."""

from __future__ import annotations

from domain.safety.fact_spec import NO, YES, FactSpec, presence


def impairment(
    name: str,
    description: str,
    *,
    mild: tuple[str, ...],
    moderate: tuple[str, ...],
    severe: tuple[str, ...],
    aliases: tuple[str, ...],
) -> FactSpec:
    """An organ's impairment: graded as the labels grade it (mild, moderate, severe, each
    with the wordings of its scale), stated without a grade (yes), or absent (no)."""
    return FactSpec(
        name=name,
        description=description,
        values=("no", "mild", "moderate", "severe", "yes"),
        wordings={
            "no": ("normal", *NO[1:]),
            "mild": mild,
            "moderate": moderate,
            "severe": severe,
            "yes": ("impaired", "unspecified", *YES[1:]),
        },
        aliases=aliases,
    )


CONDITIONS: tuple[FactSpec, ...] = (
    impairment(
        "hepatic_impairment",
        "Liver impairment (Child-Pugh class where known); labels lower maxima.",
        mild=("child pugh a", "child-pugh a"),
        moderate=("child pugh b", "child-pugh b"),
        severe=("child pugh c", "child-pugh c"),
        aliases=("liver impairment", "hepatic impairment status"),
    ),
    presence(
        "seizure_disorder",
        "A seizure disorder or a history of seizures (bupropion, clozapine: seizure risk).",
        yes=("epilepsy", "history", "history of seizures", "seizures"),
        aliases=("seizures", "epilepsy", "history of seizures", "seizure history"),
    ),
    presence(
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
    presence(
        "dementia",
        "Dementia (antipsychotics: increased mortality in elderly patients with dementia).",
    ),
    presence(
        "long_qt",
        "Congenital long QT syndrome (QT-prolonging drugs).",
        yes=("congenital",),
        aliases=("long qt syndrome", "congenital long qt"),
    ),
    presence(
        "parkinson",
        "Parkinson's disease (most antipsychotics worsen it).",
        aliases=("parkinsons disease", "parkinsons", "parkinson disease"),
    ),
    impairment(
        "renal_impairment",
        "Kidney impairment (lithium, renally cleared drugs: lower doses).",
        mild=("ckd 2", "ckd stage 2"),
        moderate=("ckd 3", "ckd stage 3"),
        severe=(
            "ckd 4",
            "ckd stage 4",
            "ckd 5",
            "ckd stage 5",
            "dialysis",
            "esrd",
            "end stage renal disease",
        ),
        aliases=("kidney impairment", "renal impairment status"),
    ),
)
