"""Judging the latest result of each lab-range rule, and the findings that say so.

The latest result of the rule's test (and analytes) is converted to the rule's unit and
compared with its tiers; the first tier it meets is the finding, keyed by the rule, the
orders, the test, the tier and the result's time, so that a worse tier or a new result is
a new alert and a result back in range makes the finding go away. A result in a unit that
cannot be converted (or without a unit where the rule does not assume one) is reported
as not judged, naming the unit, and never passes as in range; nor does it make the rule
silent. Out-of-range results are also what ``abnormal_results`` returns, so that the
monitoring rules do not count them as a check done and all well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.safety.conditions import holds
from domain.safety.context import Finding, LabResult
from domain.safety.drugs import normalise_name, without_method
from domain.safety.lab_ranges import LabRange, Tier
from domain.safety.lab_units import convert, is_uln_multiple
from domain.safety.matching import labels, matching
from domain.safety.plan_view import Course, PlanView
from domain.safety.wording import day, finding, mg, stamp

POSITIVE = frozenset({"positive", "pos", "detected", "present", "carrier", "yes"})
NEGATIVE = frozenset({"negative", "neg", "not detected", "absent", "non carrier", "no"})
NOT_JUDGED_SEVERITY = "moderate"


@dataclass(frozen=True)
class Judgement:
    """The latest result of a rule's test, read against its tiers."""

    rule: LabRange
    lab: LabResult
    courses: tuple[Course, ...]
    tier: Tier | None  # None: in range, or not judged (``problem`` says why)
    problem: str | None = None
    baseline: LabResult | None = None


def _results(rule: LabRange, view: PlanView) -> list[LabResult]:
    found = [
        lab
        for lab in view.labs(rule.test)
        if not rule.analytes
        or normalise_name(lab.test) in rule.analytes
        or without_method(lab.test) in rule.analytes
    ]
    if rule.qualitative:
        return [lab for lab in found if lab.value is not None or lab.unit]
    return [lab for lab in found if lab.value is not None]


def _courses(rule: LabRange, view: PlanView, lab: LabResult) -> tuple[Course, ...] | None:
    """The courses the result is judged for; None when the rule does not apply."""
    if rule.drugs is None:
        if rule.when is not None and holds(rule.when, view, "") is None:
            return None
        return ()
    courses = [
        c
        for c in matching(view.active, rule.drugs)
        if rule.when is None or holds(rule.when, view, c.drug) is not None
    ]
    if rule.phase != "any":
        before = rule.phase == "before_start"
        courses = [c for c in courses if (c.start is None or lab.effective_at < c.start) == before]
    return tuple(courses) or None


def _value(rule: LabRange, lab: LabResult) -> float | None:
    """The result in the rule's unit (qualitative: 1 positive, 0 negative); None if unknown."""
    if rule.qualitative:
        text = " ".join(normalise_name(lab.unit or "").split())
        if text in POSITIVE or (not text and lab.value is not None and lab.value > 0):
            return 1.0
        if text in NEGATIVE or (not text and lab.value == 0):
            return 0.0
        return None
    if lab.value is None:
        return None
    unit = lab.unit if lab.unit and lab.unit.strip() else (rule.unit if rule.assume_unit else None)
    if rule.uln is not None and is_uln_multiple(unit):  # "4 x ULN": at the rule's limit
        return lab.value * rule.uln
    return convert(lab.value, unit, rule.unit, rule.molar_mass)


def _baseline(
    rule: LabRange, results: list[LabResult], courses: tuple[Course, ...]
) -> LabResult | None:
    """The last result before the earliest of the courses started."""
    starts = [c.start for c in courses if c.start is not None]
    if not starts:
        return None
    before = [lab for lab in results[:-1] if lab.effective_at <= min(starts)]
    usable = [lab for lab in before if _value(rule, lab) is not None]
    return usable[-1] if usable else None


def _meets(tier: Tier, rule: LabRange, value: float, baseline: float | None) -> bool:
    if tier.kind == "above":
        return value > tier.threshold
    if tier.kind == "at_least":
        return value >= tier.threshold
    if tier.kind == "below":
        return value < tier.threshold
    if tier.kind == "above_uln_times":
        return value > tier.threshold * (rule.uln or 0.0)
    if tier.kind == "rise_above":
        return baseline is not None and value - baseline > tier.threshold
    return value >= 1.0  # positive


def judge(rule: LabRange, view: PlanView) -> Judgement | None:
    """The rule's reading of the latest result; None when it has nothing to judge."""
    results = _results(rule, view)
    if not results:
        return None
    lab = results[-1]
    courses = _courses(rule, view, lab)
    if courses is None:
        return None
    value = _value(rule, lab)
    if value is None:
        unit = (lab.unit or "").strip()
        target = "a positive or negative result" if rule.qualitative else rule.unit
        problem = (
            f"the rule pack cannot read its unit {unit!r} as {target}"
            if unit
            else "it was recorded with no unit"
        )
        return Judgement(rule, lab, courses, None, problem)
    base = _baseline(rule, results, courses) if rule.drugs is not None else None
    base_value = _value(rule, base) if base is not None else None
    tier = next((t for t in rule.tiers if _meets(t, rule, value, base_value)), None)
    return Judgement(rule, lab, courses, tier, None, base)


def abnormal_results(
    rules: tuple[LabRange, ...], view: PlanView
) -> frozenset[tuple[str, datetime]]:
    """(test, effective time) of every result a rule finds outside its range. Not an
    informational tier (a valproate level below the usual range: the level was taken), nor
    a qualitative screen (HLA-B*15:02: the screening is done; its own alert says positive)."""
    found = (judge(rule, view) for rule in rules if not rule.qualitative)
    return frozenset(
        (j.rule.test, j.lab.effective_at)
        for j in found
        if j and j.tier and j.tier.rule.severity != "info"
    )


def _not_judged(j: Judgement, name: str) -> Finding:
    rule, lab = j.rule, j.lab
    target = "a positive or negative result" if rule.qualitative else rule.unit
    shown = " ".join(
        part for part in (mg(lab.value) if lab.value is not None else "", lab.unit or "") if part
    )
    on_drug = f" on {labels(j.courses)}" if j.courses else ""
    return finding(
        rule.rule,
        "lab_out_of_range",
        [c.order_id for c in j.courses],
        f"{name} {shown} on {day(lab.effective_at)}{on_drug} cannot be judged: {j.problem}, "
        f"so it was not compared with the range (in {target}).",
        severity=NOT_JUDGED_SEVERITY,
        key_parts=(rule.test, stamp(lab.effective_at), "unit"),
        action="Compare the result with the reference range by hand, and record it again "
        f"in {target} so that the rules can judge it.",
        test=rule.test,
    )


def _finding(j: Judgement, name: str) -> Finding | None:
    if j.problem is not None:
        return _not_judged(j, name)
    rule, lab = j.rule, j.lab
    orders = [c.order_id for c in j.courses]
    drug = labels(j.courses)
    shown = mg(lab.value) if lab.value is not None else ""
    unit = lab.unit or ("" if rule.qualitative else rule.unit)
    tier = j.tier
    if tier is None:
        return None
    limit = tier.threshold * (rule.uln or 1.0) if tier.kind == "above_uln_times" else tier.threshold
    message = tier.rule.message.format(
        test=name,
        value=shown or "positive",
        unit=unit,
        limit=mg(limit),
        date=day(lab.effective_at),
        drug=drug,
        baseline=mg(j.baseline.value) if j.baseline and j.baseline.value is not None else "",
        uln=mg(rule.uln) if rule.uln is not None else "",
    )
    return finding(
        tier.rule,
        "lab_out_of_range",
        orders,
        " ".join(message.split()),
        key_parts=(rule.test, tier.name, stamp(lab.effective_at)),
        test=rule.test,
    )


def check_lab_ranges(
    rules: tuple[LabRange, ...], view: PlanView, test_labels: dict[str, str]
) -> list[Finding]:
    """One finding per rule whose latest result is out of range or cannot be judged."""
    findings = []
    for rule in rules:
        judgement = judge(rule, view)
        if judgement is not None:
            found = _finding(judgement, test_labels.get(rule.test, rule.test))
            if found is not None:
                findings.append(found)
    return findings
