"""Maximum daily doses, with the conditions that lower (or raise) them.

The daily dose of a drug is the sum over its active orders of amount x doses per day,
in mg, checked against the maximum for the patient (``dose_limit_rules``: by formulation
and care setting, then the conditions). Each order's single dose is checked against a
single-dose maximum where the rule has one (bupropion IR 150 mg); a daily dose above an
advisory threshold but within the maximum raises a lesser alert (risperidone above 6
mg/day). An order of unknown formulation is checked against the highest maximum of the
drug's forms, and a dose that a lower form's maximum would forbid is reported (``FormPlan``).
A dose that cannot be put in mg/day is reported as unchecked, never passed as within the
limit; so is a per-kg maximum with no recorded weight (moderate: someone must weigh the
patient), and then only an absolute ceiling (``ceiling_mg_per_day``, where the source gives
one) is still applied.
"""

from __future__ import annotations

import math

from domain.safety.context import Finding
from domain.safety.dose_form_checks import UNKNOWN_FORM_ACTION, FormPlan
from domain.safety.dose_forms import Advisory, form_phrase
from domain.safety.dose_limit_rules import (
    EPSILON,
    Adjustment,
    DoseLimit,
    limit_for,
    read_dose_limit,
)
from domain.safety.frequency import readable_daily_mg
from domain.safety.indications import IndicationMax, indication_of
from domain.safety.matching import labels
from domain.safety.plan_view import Course, PlanView
from domain.safety.wording import finding, mg, sentence

__all__ = ["Adjustment", "DoseLimit", "check_dose_limits", "limit_for", "read_dose_limit"]


def _checked(limit: DoseLimit, course: Course) -> bool:
    """The limit covers the course (a combination's ingredient whose share of the dose is
    unknown is reported as not checked instead, by ``dose_coverage``)."""
    return (
        course.drug == limit.drug
        and (not limit.routes or course.route in limit.routes)
        and course.share_problem is None
    )


def check_dose_limits(limits: tuple[DoseLimit, ...], view: PlanView) -> list[Finding]:
    findings = []
    for limit in limits:
        courses = [c for c in view.active if _checked(limit, c) and c.steps]
        if courses:
            findings.extend(_check_limit(limit, courses, view))
    return findings


def _check_limit(limit: DoseLimit, courses: list[Course], view: PlanView) -> list[Finding]:
    findings, total, dosed = [], 0.0, []
    for course in courses:
        daily = readable_daily_mg(course.steps[-1])
        if daily is None or not math.isfinite(daily):
            findings.append(_unchecked(limit, course))
            continue
        total += daily
        dosed.append(course)
    plan = FormPlan.of(limit, courses, view)
    entry, unmatched = (
        indication_of(limit.indications, [c.source.indication for c in courses])
        if limit.indications
        else (None, [])
    )
    top, low = _entry_figures(entry, plan) if entry is not None else (0.0, 0.0)
    if entry is not None:
        allowed = limit_for(limit, view, top, f"for {entry.name}{_form_lead(entry, plan)}")
    else:
        allowed = limit_for(limit, view, plan.daily(), plan.lead())
    if allowed is None:
        if total > 0:  # else every dose was reported unchecked already
            findings.append(_not_checked_without_weight(limit, courses, total))
        if limit.ceiling_mg_per_day is None:
            return findings
        allowed = (limit.ceiling_mg_per_day, "(the absolute ceiling, whatever the weight)")
    elif limit.ceiling_mg_per_day is not None and limit.ceiling_mg_per_day < allowed[0]:
        allowed = (limit.ceiling_mg_per_day, "(the absolute ceiling, whatever the weight)")
    over = total > allowed[0] + EPSILON
    if over:
        basis = None if entry is not None else plan.basis()
        why = " ".join(part for part in (allowed[1], f"({basis})" if basis else "") if part)
        message = limit.rule.message.format(
            drug=labels(courses), dose=mg(total), max=mg(allowed[0]), why=f" {why}" if why else ""
        )
        assumed = _assumed(limit, unmatched) if limit.indications and entry is None else ""
        notes = plan.notes(courses) + assumed
        findings.append(
            finding(limit.rule, "max_dose", [c.order_id for c in courses], message + notes)
        )
    per_dose = plan.per_dose_findings(dosed)
    findings.extend(per_dose)
    if not over and not per_dose:
        findings.extend(plan.unknown_form_findings(dosed, total))
    if not over and entry is not None and low < top:
        findings.extend(_indication_form_needed(limit, view, entry, plan, courses, total, low))
    if not over and entry is None and limit.unknown_indication_note:
        findings.extend(_indication_needed(limit, courses, total, allowed[0], unmatched))
    if not over and limit.advisory and total > limit.advisory.above_per_day + EPSILON:
        findings.append(_advisory(limit, limit.advisory, courses, total))
    return findings


def _entry_figures(entry: IndicationMax, plan: FormPlan) -> tuple[float, float]:
    """The indication's highest and lowest maximum over the forms the orders may be: the
    known forms' figures, or every form's when one is unknown (the lowest then needs the
    formulation to be recorded, as ``_indication_form_needed`` says)."""
    if not plan.form_of:
        return entry.max_per_day, entry.max_per_day
    figures = [entry.max_for(form) for form in plan.names()]
    return max(figures), (min(figures) if plan.unknown else max(figures))


def _form_lead(entry: IndicationMax, plan: FormPlan) -> str:
    if not entry.forms or not plan.form_of or plan.unknown:
        return ""
    return f" ({form_phrase(plan.names())})"


def _indication_form_needed(
    limit: DoseLimit,
    view: PlanView,
    entry: IndicationMax,
    plan: FormPlan,
    courses: list[Course],
    total: float,
    low: float,
) -> list[Finding]:
    """Within the indication's highest maximum of any form, above a lower form's."""
    allowed = limit_for(limit, view, low)
    if allowed is None or total <= allowed[0] + EPSILON:
        return []
    over = [f for f in plan.names() if entry.max_for(f) < total - EPSILON]
    return [
        finding(
            limit.rule,
            "max_dose",
            [c.order_id for c in courses],
            f"{labels(courses)} {mg(total)} mg/day for {entry.name} is above the "
            f"{mg(allowed[0])} mg/day maximum of the {', '.join(over)} form: the formulation "
            "is not recorded, so it could not be checked which maximum applies.",
            severity="moderate",
            key_parts=("formulation_unknown",),
            action=UNKNOWN_FORM_ACTION,
        )
    ]


def _unchecked(limit: DoseLimit, course: Course) -> Finding:
    step = course.steps[-1]
    return finding(
        limit.rule,
        "max_dose",
        [course.order_id],
        f"{course.label} {mg(step.amount)} {step.unit} {step.frequency} could not "
        "be converted to mg/day: the maximum daily dose was not checked"
        + (
            " (for a liquid, write its concentration with the drug name, e.g. "
            f"'{course.info.display if course.info else course.label} 20 mg/mL', or give the "
            "dose in mg)"
            if step.unit.lower() == "ml"
            else ""
        ),
        severity="info",
        key_parts=("unchecked",),
        action="Check the dose against the label maximum by hand.",
    )


def _advisory(limit: DoseLimit, advisory: Advisory, courses: list[Course], total: float) -> Finding:
    message = advisory.message.format(
        drug=labels(courses), dose=mg(total), threshold=mg(advisory.above_per_day)
    )
    return finding(
        limit.rule,
        "max_dose",
        [c.order_id for c in courses],
        message,
        severity=advisory.severity,
        key_parts=("advisory",),
        action=advisory.action,
    )


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


def _shown(unmatched: list[str]) -> str:
    given = sorted({f"'{text}'" for text in unmatched if text})
    return "the indication " + " and ".join(given) if given else "no indication"


def _assumed(limit: DoseLimit, unmatched: list[str]) -> str:
    """Which indication the general maximum assumes, when the order's matched none."""
    names = ", ".join(e.name for e in limit.indications)
    if not any(unmatched):
        return (
            " No indication is given, so the general maximum was used (maxima by "
            f"indication: {names})."
        )
    return (
        f" {sentence(_shown(unmatched))} matches none of the labelled ones ({names}), "
        "so the general maximum was used."
    )


def _indication_needed(
    limit: DoseLimit, courses: list[Course], total: float, allowed: float, unmatched: list[str]
) -> list[Finding]:
    """Within the general maximum but above a lower indication's: the indication is needed."""
    lower = [e for e in limit.indications if total > e.max_per_day + EPSILON]
    if not lower:
        return []
    over = " and ".join(f"{mg(e.max_per_day)} mg/day for {e.name}" for e in lower)
    message = (
        f"{labels(courses)} {mg(total)} mg/day is within the general {mg(allowed)} mg/day "
        f"maximum but above the maximum of {over}: "
        + (
            f"{_shown(unmatched)} does not say which applies."
            if any(unmatched)
            else "no indication is recorded to say which applies."
        )
    )
    return [
        finding(
            limit.rule,
            "max_dose",
            [c.order_id for c in courses],
            message,
            severity="moderate",
            key_parts=("indication_unknown",),
            action="Record the indication on the order (in words or as an ICD-10 code); if it "
            "is one with a lower maximum, reduce the dose to that maximum or below.",
        )
    ]
