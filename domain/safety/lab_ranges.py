"""Lab-range rules: a test's value judged by tier against the patient's active drugs.

An ANC of 800/µL on clozapine is not "monitoring done": it means interrupt clozapine,
ANC daily, haematology. A rule names the test, the drugs whose patients it judges (none:
any patient with a result, as for a lithium level, which is itself evidence of lithium),
the unit its thresholds are in, and tiers from the most to the least pressing, each with
its severity, message and action; the first tier the latest result meets is the answer.
A phase restricts a rule to results taken before a course started (the baseline ANC
before clozapine) or on it, so that a result recorded before the drug is prescribed is
judged when it is. ``analytes`` narrows a test to the names its value is about (ALT, not
"liver function tests"). Reading is strict: tiers out of order or a threshold kind a
rule cannot use are refused at load, since a misordered tier would hide a worse one.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from domain.safety.conditions import Condition, read_condition
from domain.safety.drugs import normalise_name
from domain.safety.lab_units import known_unit
from domain.safety.matching import Side, read_side
from domain.safety.records import (
    SEVERITIES,
    Provenance,
    Record,
    Vocabulary,
    check_template,
)

RANGE_PLACEHOLDERS = {"test", "value", "unit", "limit", "date", "drug", "baseline", "uln"}
QUALITATIVE = "qualitative"
PHASES = ("any", "before_start", "on_treatment")
ABOVE_KINDS = ("above", "at_least", "above_uln_times")
TIER_KINDS = (*ABOVE_KINDS, "below", "rise_above", "positive")


@dataclass(frozen=True)
class Tier:
    """One band of values: ``kind`` compares the result with ``threshold``."""

    name: str
    rule: Provenance  # this tier's severity, message and action (the rule's id and source)
    kind: str  # above | at_least | below | above_uln_times | rise_above | positive
    threshold: float


@dataclass(frozen=True)
class LabRange:
    """The tiers of one test for the patients of some drugs (or any patient)."""

    rule: Provenance  # id, source and evidence; severity and wording of the first tier
    test: str
    unit: str  # the thresholds' unit, or "qualitative" (a positive/negative result)
    tiers: tuple[Tier, ...]
    drugs: Side | None = None
    when: Condition | None = None
    phase: str = "any"
    analytes: frozenset[str] = frozenset()  # normalised recorded names; empty: any name
    assume_unit: bool = False  # a result without a unit is read in ``unit``
    uln: float | None = None  # the upper limit of normal, for above_uln_times tiers
    molar_mass: float | None = None  # g/mol: reads a level in µmol/L as mg/L and back

    @property
    def qualitative(self) -> bool:
        return self.unit == QUALITATIVE


def _present(record: Record, field: str) -> bool:
    """An optional field given (a null is read, and refused, by the field's reader)."""
    return field in record.raw


def _read_tier(record: Record, parent: Record, rule_id: str) -> Tier:
    kinds = [kind for kind in TIER_KINDS if kind in record.raw]
    if len(kinds) != 1:
        raise record.fail("tier", f"needs exactly one of {', '.join(TIER_KINDS)}")
    kind = kinds[0]
    if kind == "positive":
        if record.flag("positive", True) is not True:
            raise record.fail("positive", "must be true")
        threshold = 0.0
    else:
        threshold = record.number(kind)
    provenance = Provenance(
        id=rule_id,
        severity=record.choice("severity", SEVERITIES),
        message=record.text("message"),
        action=record.text("action"),
        source=parent.text("source"),
        evidence=parent.choice("evidence", ("V", "K")),
    )
    check_template(record, "message", provenance.message, RANGE_PLACEHOLDERS)
    return Tier(record.text("name"), provenance, kind, threshold)


def _check_order(record: Record, tiers: tuple[Tier, ...], uln: float | None) -> None:
    """Tiers of one direction must run from the most extreme inwards."""
    above = [t.threshold * (uln or 1.0) if t.kind == "above_uln_times" else t.threshold
             for t in tiers if t.kind in ABOVE_KINDS]  # fmt: skip
    below = [t.threshold for t in tiers if t.kind == "below"]
    if any(a <= b for a, b in pairwise(above)) or any(a >= b for a, b in pairwise(below)):
        raise record.fail("tiers", "must run from the most extreme threshold inwards")
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise record.fail("tiers", "repeat a tier name")


def read_lab_range(record: Record, rule_id: str, vocabulary: Vocabulary) -> LabRange:
    test = record.text("test")
    if test not in vocabulary.tests:
        raise record.fail("test", f"names an unknown lab test {test!r}")
    unit = record.text("unit")
    if unit != QUALITATIVE and not known_unit(unit):
        raise record.fail("unit", f"is {unit!r}, a unit CareLog cannot convert")
    tiers = tuple(_read_tier(t, record, rule_id) for t in record.records("tiers"))
    if not tiers:
        raise record.fail("tiers", "is empty: the rule would never fire")
    drugs = read_side(record.child("drugs"), vocabulary) if _present(record, "drugs") else None
    when = read_condition(record.child("when"), vocabulary) if _present(record, "when") else None
    phase = record.choice("phase", PHASES) if _present(record, "phase") else "any"
    uln = record.number("uln") if _present(record, "uln") else None
    molar_mass = record.number("molar_mass") if _present(record, "molar_mass") else None
    kinds = {t.kind for t in tiers}
    if (unit == QUALITATIVE) != (kinds == {"positive"}):
        raise record.fail("tiers", "use 'positive' exactly when the unit is qualitative")
    if "above_uln_times" in kinds and uln is None:
        raise record.fail("uln", "is missing: a tier is a multiple of the upper limit of normal")
    if ("rise_above" in kinds or phase != "any") and drugs is None:
        raise record.fail("drugs", "is missing: a rise or a phase is counted from a drug's start")
    _check_order(record, tiers, uln)
    analytes = record.texts("analytes") if _present(record, "analytes") else ()
    first = tiers[0].rule
    return LabRange(
        rule=first,
        test=test,
        unit=unit,
        tiers=tiers,
        drugs=drugs,
        when=when,
        phase=phase,
        analytes=frozenset(normalise_name(a) for a in analytes),
        assume_unit=record.flag("assume_unit", False),
        uln=uln,
        molar_mass=molar_mass,
    )
