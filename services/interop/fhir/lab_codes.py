"""LOINC codes and UCUM units for the results CareLog records, read from the recorded name.

A recorded name is mapped only where the name says one analyte (``alt``, not ``lft``, which
covers ALT and AST) and only when the recorded unit is the unit of that LOINC code's
property (a lithium level in mmol/L is 14334-7; one in mg/L is left as text), so a code is
never wrong about what was measured. Everything else keeps its name as ``code.text``.
Codes from LOINC (Regenstrief); units in UCUM (unitsofmeasure.org).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.safety.drugs import normalise_name
from domain.safety.lab_units import unit_key
from domain.safety.monitoring import test_names
from domain.safety.pack import default_pack


@dataclass(frozen=True)
class LabCode:
    loinc: str
    display: str
    ucum: str  # the UCUM unit the value must be in for the code to apply


_CODES: tuple[tuple[LabCode, tuple[str, ...]], ...] = (
    (LabCode("29463-7", "Body weight", "kg"), ("weight", "body weight", "weight kg")),
    (
        LabCode("14334-7", "Lithium [Moles/volume] in Serum or Plasma", "mmol/L"),
        ("lithium", "lithium level", "serum lithium", "li level", "lithium serum"),
    ),
    (
        LabCode("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L"),
        ("sodium", "serum sodium", "na"),
    ),
    (
        LabCode("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L"),
        ("potassium", "serum potassium", "k", "k+"),
    ),
    (
        LabCode(
            "1742-6",
            "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            "U/L",
        ),
        ("alt", "alanine aminotransferase", "alanine transaminase", "sgpt"),
    ),
    (
        LabCode(
            "1920-8",
            "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            "U/L",
        ),
        ("ast", "aspartate aminotransferase", "aspartate transaminase", "sgot"),
    ),
    (
        LabCode("777-3", "Platelets [#/volume] in Blood by Automated count", "10*9/L"),
        ("platelets", "platelet count", "plt", "platelet", "plts"),
    ),
    (
        LabCode("751-8", "Neutrophils [#/volume] in Blood by Automated count", "/uL"),
        (
            "anc",
            "absolute neutrophil count",
            "neutrophils",
            "neutrophil count",
            "absolute neutrophils",
            "neutrophils absolute",
            "abs neutrophils",
        ),
    ),
    (
        LabCode("4086-5", "Valproate [Mass/volume] in Serum or Plasma", "mg/L"),
        ("valproate level", "valproic acid level", "vpa level", "valproate", "serum valproate"),
    ),
    (
        LabCode("3432-0", "Carbamazepine [Mass/volume] in Serum or Plasma", "mg/L"),
        ("carbamazepine level", "cbz level", "serum carbamazepine"),
    ),
    (
        LabCode("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL"),
        ("creatinine", "serum creatinine"),
    ),
    (LabCode("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L"), ("tsh",)),
    (
        LabCode("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
        ("hba1c", "a1c"),
    ),
)
BY_NAME = {normalise_name(name): code for code, names in _CODES for name in names}

UCUM_BY_KEY = {
    "kg": "kg",
    "g": "g",
    "lb": "[lb_av]",
    "mmol/l": "mmol/L",
    "meq/l": "meq/L",
    "u/l": "U/L",
    "iu/l": "[IU]/L",
    "10^9/l": "10*9/L",
    "/ul": "/uL",
    "mg/l": "mg/L",
    "ug/ml": "ug/mL",
    "mg/dl": "mg/dL",
    "umol/l": "umol/L",
    "ng/ml": "ng/mL",
    "miu/l": "m[IU]/L",
    "uiu/ml": "u[IU]/mL",
    "ms": "ms",
    "%": "%",
    "cm": "cm",
    "mmhg": "mm[Hg]",
    "/min": "/min",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
}
"""Units as ``unit_key`` spells them -> UCUM."""
_EQUIVALENT = {"ug/mL": "mg/L", "m[IU]/L": "u[IU]/mL"}  # the same quantity, other spelling


def ucum(unit: str | None) -> str | None:
    """The UCUM code of a recorded unit, or None when CareLog does not know it."""
    return UCUM_BY_KEY.get(unit_key(unit))


def lab_code(test: str, unit: str | None) -> LabCode | None:
    """The LOINC code of a result recorded as ``test`` in ``unit``, when certain."""
    code = BY_NAME.get(normalise_name(test))
    recorded = ucum(unit)
    if code is None or recorded is None:
        return None
    if _EQUIVALENT.get(recorded, recorded) != _EQUIVALENT.get(code.ucum, code.ucum):
        return None
    return code


def reference_ranges(test: str, unit: str | None) -> list[dict[str, Any]]:
    """The ranges CareLog's lab rules judge a result against, as ``referenceRange``: the
    least pressing threshold of each rule for the test (``low`` for a below-tier, ``high``
    for an above-tier), in the result's own unit when it is the rule's; the text names the
    rule and, for a rule about some drugs, says so. These are alert thresholds of the
    shipped rule pack, not a laboratory's normal range."""
    recorded = ucum(unit)
    pack = default_pack()
    name = normalise_name(test)
    pack_test = test_names(dict(pack.lab_tests)).get(name)
    if recorded is None or pack_test is None:
        return []
    ranges = []
    for rule in pack.lab_ranges:
        if rule.test != pack_test or unit_key(rule.unit) != unit_key(unit):
            continue
        if rule.analytes and name not in rule.analytes:
            continue
        bounds: dict[str, Any] = {}
        for tier in rule.tiers:  # most pressing first: the last of a kind is the edge
            side = "low" if tier.kind == "below" else "high" if tier.kind in ABOVE else None
            if side is not None:
                bounds[side] = {
                    "value": tier.threshold,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": recorded,
                }
        if bounds:
            scope = [
                *(["on the drugs it names"] if rule.drugs is not None else []),
                *(["when its condition holds"] if rule.when is not None else []),
                *([f"phase {rule.phase}"] if rule.phase != "any" else []),
            ]
            said = f" ({', '.join(scope)})" if scope else ""
            bounds["text"] = f"CareLog safety rule {rule.rule.id}{said}: alert outside"
            ranges.append(bounds)
    return ranges


ABOVE = frozenset({"above", "at_least"})
