"""Maximum-dose rules as the pack states them, and the maximum that applies to a patient.

A rule gives the label maximum (per kg for valproate), or figures per formulation and
care setting (``dose_forms``), and the conditions that change it: a matching "replace"
adjustment swaps it (lamotrigine 400 mg/day with inducers), "cap" adjustments lower it
(citalopram 20 mg/day over 60) and "factor" adjustments scale it (aripiprazole halved with
a strong CYP2D6 inhibitor, quartered with a CYP3A4 inhibitor as well).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.conditions import Condition, holds, read_condition
from domain.safety.dose_forms import (
    NO_FORMS,
    Advisory,
    Forms,
    Maximum,
    highest_daily,
    read_advisory,
    read_forms,
    read_maximum,
)
from domain.safety.indications import IndicationMax, read_indications
from domain.safety.matching import ROUTES, labels
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary, check_template
from domain.safety.wording import mg

LIMIT_PLACEHOLDERS = {"drug", "dose", "max", "why"}
MODES = ("cap", "factor", "replace")
EPSILON = 1e-6  # doses equal to the limit, give or take float rounding, are within it


@dataclass(frozen=True)
class Adjustment:
    """When ``when`` holds, the limit is capped at, multiplied by or replaced with ``value``."""

    when: Condition
    mode: str
    value: float
    reason: str  # "for patients over 60", "with a CYP2C19 inhibitor ({drugs})"
    group: str | None = None  # of adjustments in one group only the first that holds applies


@dataclass(frozen=True)
class DoseLimit(PackRule):
    """A drug's maximum daily dose (in mg/day, or mg/kg/day when ``per_kg``).

    With per-formulation figures (``forms``), ``max_per_day`` is the highest outpatient
    maximum of the forms: the one an order of unknown formulation is checked against.
    """

    drug: str
    max_per_day: float
    per_kg: bool
    routes: frozenset[str]
    basis: str | None  # why this maximum (e.g. the highest of indication-specific maxima)
    adjustments: tuple[Adjustment, ...]
    ceiling_mg_per_day: float | None = None  # an absolute maximum whatever the weight
    inpatient_max_per_day: float | None = None
    max_per_dose: float | None = None  # single-dose maximum
    forms: Forms = NO_FORMS
    advisory: Advisory | None = None
    indications: tuple[IndicationMax, ...] = ()  # maxima per labelled indication
    unknown_indication_note: bool = False  # report doses above a lower indication's maximum

    @property
    def own(self) -> Maximum:
        """The rule's own figures (for a drug without per-formulation figures)."""
        return Maximum(self.max_per_day, self.inpatient_max_per_day, self.max_per_dose)


FORM_FIELDS = ("max_mg_per_day", "max_mg_per_kg_per_day", "inpatient_max_mg_per_day",
               "max_mg_per_dose")  # fmt: skip


def read_dose_limit(record: Record, rule_id: str, vocabulary: Vocabulary) -> DoseLimit:
    rule = record.provenance(rule_id, record.choice("severity", ("major", "moderate")))
    check_template(record, "message", rule.message, LIMIT_PLACEHOLDERS)
    drug = record.text("drug")
    if drug not in vocabulary.drugs:
        raise record.fail("drug", f"names an unknown drug {drug!r}")
    figures, aliases = read_forms(record)
    per_kg = record.has("max_mg_per_kg_per_day")
    if figures:
        given = [name for name in FORM_FIELDS if record.has(name)]
        if given:
            raise record.fail(given[0], "must be given per formulation, in 'formulations'")
        own = Maximum(highest_daily(figures.values(), at_inpatient=False))
    elif per_kg == record.has("max_mg_per_day"):
        raise record.fail("max_mg_per_day", "or 'max_mg_per_kg_per_day' is needed (one only)")
    elif per_kg:
        for name in FORM_FIELDS[2:]:
            if record.has(name):
                raise record.fail(name, "cannot be combined with a per-kg maximum")
        own = Maximum(record.number("max_mg_per_kg_per_day"))
    else:
        own = read_maximum(record)
    ceiling = record.number("ceiling_mg_per_day") if record.has("ceiling_mg_per_day") else None
    if ceiling is not None and (not per_kg or ceiling <= 0):
        raise record.fail("ceiling_mg_per_day", "must be positive, and only with a per-kg maximum")
    adjustments = []
    for item in record.records("adjustments"):
        mode = item.choice("mode", MODES)
        reason = item.text("reason")
        check_template(item, "reason", reason, {"drugs"})
        value = item.number("value")
        if value <= 0:
            raise item.fail("value", "must be positive")
        group = item.text("group") if item.has("group") else None
        adjustments.append(
            Adjustment(read_condition(item.child("when"), vocabulary), mode, value, reason, group)
        )
    return DoseLimit(
        rule=rule,
        drug=drug,
        max_per_day=own.per_day,
        per_kg=per_kg,
        routes=frozenset(record.names("routes", ROUTES, "route")),
        basis=record.text("basis") if record.has("basis") else None,
        adjustments=tuple(adjustments),
        ceiling_mg_per_day=ceiling,
        inpatient_max_per_day=own.inpatient_per_day,
        max_per_dose=own.per_dose,
        forms=Forms(figures, aliases),
        advisory=read_advisory(record),
        indications=_indications(record, figures, per_kg),
        unknown_indication_note=record.flag("unknown_indication_note", False),
    )


def _indications(record: Record, figures: object, per_kg: bool) -> tuple[IndicationMax, ...]:
    entries = read_indications(record) if "indications" in record.raw else ()
    if entries and per_kg:
        raise record.fail("indications", "cannot be combined with a per-kg maximum")
    forms = set(figures) if isinstance(figures, dict) else set()
    for entry in entries:
        unknown = {name for name, _ in entry.forms} - forms
        if unknown:
            raise record.fail("indications", f"names forms the rule lacks: {sorted(unknown)}")
    return entries


def weight_kg(view: PlanView) -> float | None:
    """The fact ``weight_kg`` if recorded, else the latest ``weight`` measurement."""
    try:
        fact = view.fact("weight_kg")
        if fact is not None:
            return float(fact)
    except ValueError:
        pass
    measured = [lab.value for lab in view.labs("weight") if lab.value is not None]
    return measured[-1] if measured else None


def limit_for(
    limit: DoseLimit, view: PlanView, base: float | None = None, lead: str = ""
) -> tuple[float, str] | None:
    """The maximum in mg/day for this patient, and why; None if it cannot be worked out.

    ``base`` replaces the rule's own maximum (a formulation's or a setting's figure) and
    ``lead`` is said first ("for the SR form"); the conditions then apply to it.
    """
    base, why = (limit.max_per_day if base is None else base), [lead] if lead else []
    if limit.per_kg:
        weight = weight_kg(view)
        if weight is None or weight <= 0:
            return None
        why.append(f"({mg(limit.max_per_day)} mg/kg/day at {mg(weight)} kg)")
        base *= weight
    met, groups = [], set()
    for adjustment in limit.adjustments:
        found = holds(adjustment.when, view, limit.drug)
        if found is not None and (adjustment.group is None or adjustment.group not in groups):
            met.append((adjustment, adjustment.reason.format(drugs=labels(found))))
            groups.add(adjustment.group)
    replaced = [(a, r) for a, r in met if a.mode == "replace"]
    if replaced:
        base = replaced[0][0].value
        why.append(replaced[0][1])
    caps = [(a, r) for a, r in met if a.mode == "cap"]
    if caps and min(a.value for a, _ in caps) < base:
        base = min(a.value for a, _ in caps)
        why.extend(r for a, r in caps if a.value == base)
    for adjustment, reason in met:
        if adjustment.mode == "factor":
            base *= adjustment.value
            why.append(reason)
    return base, " and ".join(why)
