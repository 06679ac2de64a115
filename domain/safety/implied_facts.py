"""Clinical facts a coded condition implies, so that rules reading facts see the problem list.

The dose limits read ``hepatic_impairment`` (escitalopram 10 mg/day with hepatic
impairment ...) and older records state a seizure disorder as a fact: a coded liver
disease or epilepsy on the problem list must count the same.
"""

from __future__ import annotations

from domain.problem_list import normalise_code
from domain.safety.context import Condition
from domain.safety.drugs import normalise_name

IMPLIED_FACTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # (fact, ICD-10-CM prefixes without the dot, value): a coded condition says what the
    # fact says, so the dose limits that read the fact (escitalopram 10 mg/day with hepatic
    # impairment ...) hold for a coded liver disease too.
    ("hepatic_impairment", ("K70", "K71", "K72", "K73", "K74", "K75", "K76", "K77"), "yes"),
    ("renal_impairment", ("N184", "N185", "N186", "Z992"), "severe"),
    ("seizure_disorder", ("G40", "R561", "R569"), "yes"),  # not febrile (R56.0)
)


def implied_facts(conditions: tuple[Condition, ...], facts: dict[str, str]) -> dict[str, str]:
    """The facts (names normalised) with those the problem list implies where no fact
    says more: a recorded severity ("moderate") is kept, a stale "no" is not (the coded
    condition is on the list now)."""
    out = dict(facts)
    codes = [normalise_code(c.code).replace(".", "") for c in conditions]
    for name, prefixes, value in IMPLIED_FACTS:
        fact = normalise_name(name)
        if any(code.startswith(prefixes) for code in codes):
            current = out.get(fact)
            if current is None or current in {"no", "none", "false", "absent"}:
                out[fact] = value
    return out


PREGNANCY_FACTS = {
    # fact (normalised) -> {value: pregnancy status}; "yes" on "breastfeeding" is lactation
    "pregnant": {"yes": "pregnant", "true": "pregnant", "no": "not_pregnant"},
    "pregnancy": {
        "yes": "pregnant", "true": "pregnant", "pregnant": "pregnant", "no": "not_pregnant",
        "not pregnant": "not_pregnant", "not_pregnant": "not_pregnant", "lactating": "lactating",
        "breastfeeding": "lactating", "postpartum": "postpartum",
    },
    "pregnancy status": {
        "pregnant": "pregnant", "not pregnant": "not_pregnant", "lactating": "lactating",
        "breastfeeding": "lactating", "postpartum": "postpartum",
    },
    "breastfeeding": {"yes": "lactating", "true": "lactating"},
    "lactating": {"yes": "lactating", "true": "lactating"},
    "lactation": {"yes": "lactating", "true": "lactating"},
}  # fmt: skip
SEX_FACTS = ("sex at birth", "sex")
SEX_VALUES = {"female": "female", "f": "female", "male": "male", "m": "male"}


def pregnancy_from_facts(facts: dict[str, str]) -> tuple[str, str] | None:
    """(status, the fact as a message names it) when a clinical fact states a pregnancy
    or lactation status (records from before the pregnancy-status entry existed)."""
    for fact, values in PREGNANCY_FACTS.items():
        value = facts.get(fact)
        if value is not None and value in values:
            return values[value], f"{fact}: {value}"
    return None


def sex_from_facts(facts: dict[str, str]) -> str | None:
    for fact in SEX_FACTS:
        value = SEX_VALUES.get(facts.get(fact, ""))
        if value is not None:
            return value
    return None
