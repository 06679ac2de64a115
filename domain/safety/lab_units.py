"""Lab units as laboratories write them, and conversion between equivalent ones.

An ANC of 0.8 x 10⁹/L and one of 800/µL are the same count; a lithium level of 1.6 mEq/L
is 1.6 mmol/L (a monovalent ion); a valproate level of 80 µg/mL is 80 mg/L. A range rule
states its thresholds in one unit and reads results in any unit of the same dimension.
A unit that is not listed here is never guessed: the caller reports the result as not
judged, naming the unit, so that an unusual spelling cannot pass as "in range".
"""

from __future__ import annotations

import re

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")

_COUNT_PER_UL = ("/ul", "/mm3", "/cumm", "/cmm")
_THOUSANDS_PER_UL = ("10^9/l", "10^3/ul", "10^3/mm3", "k/ul", "thou/ul", "thousand/ul")

UNITS: dict[str, tuple[str, float]] = {
    # cell counts per volume, base: cells per µL
    **{unit: ("count", 1.0) for unit in _COUNT_PER_UL},
    **{unit: ("count", 1000.0) for unit in _THOUSANDS_PER_UL},
    # amount of a monovalent ion (lithium, sodium), base: mmol/L (= mEq/L)
    "mmol/l": ("amount", 1.0),
    "meq/l": ("amount", 1.0),
    "umol/l": ("amount", 0.001),
    # mass concentration (drug levels), base: mg/L (= µg/mL)
    "mg/l": ("mass", 1.0),
    "ug/ml": ("mass", 1.0),
    "ug/l": ("mass", 0.001),
    "ng/ml": ("mass", 0.001),
    "mg/dl": ("mass", 10.0),
    # catalytic activity (ALT, AST), base: U/L (= IU/L); 1 µkat/L is about 60 U/L
    "u/l": ("activity", 1.0),
    "iu/l": ("activity", 1.0),
    "units/l": ("activity", 1.0),
    "ukat/l": ("activity", 60.0),
    # durations (QTc), base: ms
    "ms": ("time", 1.0),
    "msec": ("time", 1.0),
    "milliseconds": ("time", 1.0),
    "s": ("time", 1000.0),
    "sec": ("time", 1000.0),
    # filtration rate per body surface (eGFR), base: mL/min/1.73 m²
    "ml/min/1.73m2": ("gfr", 1.0),
    # A creatinine clearance in mL/min: the lithium label's renal thresholds are given in it.
    "ml/min": ("gfr", 1.0),
}
"""Normalised unit -> (dimension, factor to the dimension's base unit)."""


def unit_key(unit: str | None) -> str:
    """A unit as the table spells it: "x10⁹/L" -> "10^9/l", "cells/µL" -> "/ul",
    "mcg/mL" -> "ug/ml", "mL/min/1.73 m²" -> "ml/min/1.73m2"; "" when none is given."""
    text = (unit or "").translate(_SUPERSCRIPTS).lower()
    text = text.replace("µ", "u").replace("μ", "u").replace("\u00d7", "x")  # times sign
    text = "".join(text.split())
    text = re.sub(r"mc(?=[gl]\b|[gl]/)", "u", text)  # mcg -> ug, mcl -> ul
    text = re.sub(r"10(?:\*\*|\*|e|\^)?(\d)(?=/)", r"10^\1", text)  # 10*9/l, 10e9/l
    text = re.sub(r"^x(?=10\^)", "", text)
    text = re.sub(r"cells?", "", text)  # "10^9 cells/L", "cells/µL"
    text = re.sub(r"^per(?=/)", "", text)
    text = re.sub(r"^per(?=[a-z])", "/", text)
    text = text.replace("m^2", "m2")
    return text


ULN_MULTIPLES = frozenset({"xuln", "uln", "timesuln", "*uln", "xtheuln"})
"""A value written as a multiple of the upper limit of normal ("4 x ULN")."""


def is_uln_multiple(unit: str | None) -> bool:
    return unit_key(unit) in ULN_MULTIPLES


def known_unit(unit: str | None) -> bool:
    return unit_key(unit) in UNITS


def convert(
    value: float, unit: str | None, to: str, molar_mass: float | None = None
) -> float | None:
    """``value`` in ``unit`` expressed in ``to``; None when either unit is unknown or the
    two measure different things (an ANC in mmol/L). An amount (µmol/L) and a mass
    (mg/L) convert only with the analyte's ``molar_mass`` in g/mol (valproic acid 144.21).
    Rounded to 12 significant digits, so that a value converted there and back compares
    equal with a threshold."""
    source, target = UNITS.get(unit_key(unit)), UNITS.get(unit_key(to))
    if source is None or target is None:
        return None
    base = value * source[1]
    if source[0] != target[0]:
        dims = (source[0], target[0])
        if molar_mass is None or dims not in (("amount", "mass"), ("mass", "amount")):
            return None
        base = base * molar_mass if dims[0] == "amount" else base / molar_mass
    return float(f"{base / target[1]:.12g}")
