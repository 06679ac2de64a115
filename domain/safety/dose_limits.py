"""Maximum daily doses, with the conditions that lower (or raise) them.

The daily dose of a drug is the sum over its active orders of amount x doses per day,
in mg. The limit starts from the label maximum (per kg for valproate); a matching
"replace" adjustment swaps it (lamotrigine 400 mg/day with inducers), "cap" adjustments
lower it (citalopram 20 mg/day over 60) and "factor" adjustments scale it (aripiprazole
halved with a strong CYP2D6 inhibitor, quartered with a CYP3A4 inhibitor as well). A dose
that cannot be put in mg/day is reported as unchecked, never passed as within the limit;
so is a per-kg maximum with no recorded weight (moderate: someone must weigh the patient),
and then only an absolute ceiling (``ceiling_mg_per_day``, where the source gives one) is
still applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.safety.conditions import Condition, holds, read_condition
from domain.safety.context import Finding
from domain.safety.frequency import FrequencyError, daily_mg
from domain.safety.matching import ROUTES, labels
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import Provenance, Record, Vocabulary, check_template
from domain.safety.wording import finding, mg

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
class DoseLimit:
    """A drug's maximum daily dose (in mg/day, or mg/kg/day when ``per_kg``)."""

    rule: Provenance
    drug: str
    max_per_day: float
    per_kg: bool
    routes: frozenset[str]
    basis: str | None  # why this maximum (e.g. the highest of indication-specific maxima)
    adjustments: tuple[Adjustment, ...]
    ceiling_mg_per_day: float | None = None  # an absolute maximum whatever the weight


def read_dose_limit(record: Record, rule_id: str, vocabulary: Vocabulary) -> DoseLimit:
    rule = record.provenance(rule_id, record.choice("severity", ("major", "moderate")))
    check_template(record, "message", rule.message, LIMIT_PLACEHOLDERS)
    drug = record.text("drug")
    if drug not in vocabulary.drugs:
        raise record.fail("drug", f"names an unknown drug {drug!r}")
    per_kg = record.has("max_mg_per_kg_per_day")
    if per_kg == record.has("max_mg_per_day"):
        raise record.fail("max_mg_per_day", "or 'max_mg_per_kg_per_day' is needed (one only)")
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
        max_per_day=record.number("max_mg_per_kg_per_day" if per_kg else "max_mg_per_day"),
        per_kg=per_kg,
        routes=frozenset(record.names("routes", ROUTES, "route")),
        basis=record.text("basis") if record.has("basis") else None,
        adjustments=tuple(adjustments),
        ceiling_mg_per_day=ceiling,
    )


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


def limit_for(limit: DoseLimit, view: PlanView) -> tuple[float, str] | None:
    """The maximum in mg/day for this patient, and why; None if it cannot be worked out."""
    base, why = limit.max_per_day, []
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
    if limit.basis:
        why.append(f"({limit.basis})")
    return base, " and ".join(why)


def _checked(limit: DoseLimit, course: Course) -> bool:
    return course.drug == limit.drug and (not limit.routes or course.route in limit.routes)


def check_dose_limits(limits: tuple[DoseLimit, ...], view: PlanView) -> list[Finding]:
    findings = []
    for limit in limits:
        courses = [c for c in view.active if _checked(limit, c) and c.steps]
        if not courses:
            continue
        total = 0.0
        for course in courses:
            try:
                daily = daily_mg(course.steps[-1])
            except FrequencyError:
                daily = None
            if daily is None or not math.isfinite(daily):
                step = course.steps[-1]
                findings.append(
                    finding(
                        limit.rule,
                        "max_dose",
                        [course.order_id],
                        f"{course.label} {mg(step.amount)} {step.unit} {step.frequency} could not "
                        "be converted to mg/day: the maximum daily dose was not checked",
                        severity="info",
                        key_parts=("unchecked",),
                        action="Check the dose against the label maximum by hand.",
                    )
                )
                continue
            total += daily
        allowed = limit_for(limit, view)
        if allowed is None:
            if total > 0:  # else every dose was reported unchecked already
                findings.append(_not_checked_without_weight(limit, courses, total))
            if limit.ceiling_mg_per_day is None:
                continue
            allowed = (limit.ceiling_mg_per_day, "(the absolute ceiling, whatever the weight)")
        elif limit.ceiling_mg_per_day is not None and limit.ceiling_mg_per_day < allowed[0]:
            allowed = (limit.ceiling_mg_per_day, "(the absolute ceiling, whatever the weight)")
        if total <= allowed[0] + EPSILON:
            continue
        why = f" {allowed[1]}" if allowed[1] else ""
        message = limit.rule.message.format(
            drug=labels(courses), dose=mg(total), max=mg(allowed[0]), why=why
        )
        findings.append(finding(limit.rule, "max_dose", [c.order_id for c in courses], message))
    return findings


def _not_checked_without_weight(limit: DoseLimit, courses: list[Course], total: float) -> Finding:
    """A per-kg maximum with no weight to apply it to: never reported as within the limit."""
    ceiling = (
        f" Only the absolute ceiling of {mg(limit.ceiling_mg_per_day)} mg/day was applied."
        if limit.ceiling_mg_per_day is not None
        else ""
    )
    return finding(
        limit.rule,
        "max_dose",
        [c.order_id for c in courses],
        f"{labels(courses)} {mg(total)} mg/day could not be checked against the "
        f"{mg(limit.max_per_day)} mg/kg/day maximum: no body weight is recorded.{ceiling}",
        severity="moderate",
        key_parts=("no_weight",),
        action="Record the patient's weight (a weight measurement or the fact weight_kg) so "
        "that the dose can be checked, and check it by hand meanwhile.",
    )
