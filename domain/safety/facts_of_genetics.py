"""The genetic facts the rules read: metaboliser status, HLA and POLG results, benign ethnic
neutropenia, and the ancestry that decides HLA screening."""

from __future__ import annotations

from domain.safety.fact_spec import NO, YES, FactSpec, metaboliser
from domain.safety.fact_values import (
    BENIGN_ETHNIC_NEUTROPENIA,
    CLOSED_FACTS,
    HLA_B_1502,
)

GENETICS: tuple[FactSpec, ...] = (
    metaboliser("cyp2c19"),
    metaboliser("cyp2d6"),
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
        name="polg_mutation",
        description="A POLG mitochondrial disorder (valproate: contraindicated).",
        values=("positive", "negative"),
        wordings={"positive": ("detected", "carrier", *YES), "negative": ("not detected", *NO)},
        aliases=("polg", "polg disease"),
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
)
