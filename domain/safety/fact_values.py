"""Clinical facts whose values come from a closed set, so that the rules can rely on them.

Most facts are free text the rules read loosely (smoking "yes" or "current smoker"). A
fact a rule needs exactly is closed: ``alcohol_use`` drives the alcohol interactions
(reference rows 28 and 30), and a value outside its set ("a bit", "heavvy") would match
no rule and pass as safe, so ``record_fact`` refuses it and names the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.safety.drugs import normalise_name

ALCOHOL_USE = "alcohol_use"
BENIGN_ETHNIC_NEUTROPENIA = "benign_ethnic_neutropenia"
HLA_B_1502 = "hla_b_1502"

CLOSED_FACTS: Mapping[str, tuple[str, ...]] = {
    # none: does not drink now (a withdrawal that is over included); occasional: drinks now
    # and then; regular: drinks most weeks or every day; heavy: heavy or dependent drinking;
    # stopped_abruptly: regular or heavy drinking stopped at once, withdrawal not yet over.
    ALCOHOL_USE: ("none", "occasional", "regular", "heavy", "stopped_abruptly"),
    # yes: the patient has benign ethnic neutropenia (Duffy-null associated neutrophil
    # count), so clozapine's BEN ANC table applies; no: the general table.
    BENIGN_ETHNIC_NEUTROPENIA: ("yes", "no"),
    # The HLA-B*15:02 genotype (carbamazepine, oxcarbazepine: SJS/TEN in carriers).
    HLA_B_1502: ("positive", "negative"),
}
"""Each closed fact with its allowed values, in the order a clinician reads them."""


def closed_fact(name: str) -> str | None:
    """The canonical name of a closed fact ("Alcohol use" -> "alcohol_use"); None if the
    fact is not closed."""
    key = normalise_name(name)
    return next((fact for fact in CLOSED_FACTS if normalise_name(fact) == key), None)


def canonical_value(value: str) -> str:
    """A value as the closed sets spell it: "Stopped abruptly" -> "stopped_abruptly"."""
    return "_".join(value.lower().replace("-", " ").replace("_", " ").split())


def value_label(value: str) -> str:
    """A value as a message says it: "stopped_abruptly" -> "stopped abruptly"."""
    return canonical_value(value).replace("_", " ")
