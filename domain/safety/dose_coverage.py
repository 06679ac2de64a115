"""Doses no maximum checked: said so, never passed as within the limit.

Every psychiatric drug of the pack has a maximum daily dose or an explicit "no label
maximum" entry with its reason (lithium is dosed to its level); the pack is refused
otherwise. An active order of a psychiatric drug whose dose no maximum-dose rule covers (a route the
rule does not cover, a drug added without a maximum), and an ingredient of a combination
whose share of the dose cannot be worked out, get a low-severity finding that says the
dose was not checked. Other drugs (an NSAID beside lithium) are dosed outside the pack's
scope, and a drug with a documented "no label maximum" (lithium, dosed to its level) has
its reason in the pack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.safety.context import Finding
from domain.safety.dose_limit_rules import DoseLimit
from domain.safety.drugs import DrugInfo
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import (
    PackRule,
    Record,
    RulePackError,
    Vocabulary,
    check_template,
)
from domain.safety.usual_range import DoseGuide, check_usual_ranges, read_dose_guide
from domain.safety.wording import finding

COVERAGE_PLACEHOLDERS = {"drug", "route", "reason"}


@dataclass(frozen=True)
class DoseCoverage(PackRule):
    """Which drugs must have a maximum, the reasoned exceptions, and the finding's wording."""

    required_for_classes: frozenset[str]
    no_label_maximum: Mapping[str, str]  # drug -> why it has no maximum
    guides: Mapping[str, DoseGuide] = field(default_factory=dict)  # usual range, ceiling


def read_dose_coverage(record: Record, vocabulary: Vocabulary) -> DoseCoverage:
    rule = record.provenance(record.text("id"), "info")
    check_template(record, "message", rule.message, COVERAGE_PLACEHOLDERS)
    reasons, guides = {}, {}
    for item in record.records("no_label_maximum"):
        drug = item.text("drug")
        if drug not in vocabulary.drugs:
            raise item.fail("drug", f"names an unknown drug {drug!r}")
        item.text("source")
        item.choice("evidence", ("V", "K"))
        reasons[drug] = item.text("reason")
        guides[drug] = read_dose_guide(item, drug)
    classes = record.names("required_for_classes", vocabulary.classes, "class")
    return DoseCoverage(rule, frozenset(classes), reasons, guides)


def uncovered(
    coverage: DoseCoverage, drugs: Mapping[str, DrugInfo], limits: Iterable[DoseLimit]
) -> list[str]:
    """Drugs of the required classes with neither a maximum nor a reasoned exception."""
    limited = {limit.drug for limit in limits}
    return sorted(
        name
        for name, info in drugs.items()
        if info.classes & coverage.required_for_classes
        and name not in limited
        and name not in coverage.no_label_maximum
    )


def check_coverage(
    coverage: DoseCoverage, limits: Iterable[DoseLimit], drugs: Mapping[str, DrugInfo]
) -> None:
    """Refuse a pack in which a psychiatric drug has no maximum and no reasoned exception."""
    missing = uncovered(coverage, drugs, limits)
    if missing:
        raise RulePackError(
            "dose_coverage: no maximum daily dose and no 'no_label_maximum' entry for "
            + ", ".join(missing)
        )


def _covered(limit: DoseLimit, course: Course) -> bool:
    return limit.drug == course.drug and (not limit.routes or course.route in limit.routes)


def check_doses_unchecked(
    coverage: DoseCoverage | None, limits: tuple[DoseLimit, ...], view: PlanView
) -> list[Finding]:
    if coverage is None:
        return []
    findings = []
    shares: dict[str, list[Course]] = {}
    for course in view.active:
        if course.info is None or not course.steps:
            continue  # an unknown drug is reported as such
        if course.share_problem is not None:
            shares.setdefault(course.order_id, []).append(course)
            continue
        if (
            any(_covered(limit, course) for limit in limits)
            or not course.classes & coverage.required_for_classes
            or course.drug in coverage.no_label_maximum  # its reason is documented
        ):
            continue
        has_rule = any(limit.drug == course.drug for limit in limits)
        message = coverage.rule.message.format(
            drug=course.label,
            route=f" given by the {course.route} route" if has_rule else "",
            reason="",
        )
        findings.append(
            finding(
                coverage.rule,
                "max_dose",
                [course.order_id],
                message,
                key_parts=("not_checked", course.drug),
            )
        )
    for order_id, parts in sorted(shares.items()):
        typed = " ".join(parts[0].source.drug.split())
        names = " and ".join(sorted(c.info.display for c in parts if c.info is not None))
        findings.append(
            finding(
                coverage.rule,
                "max_dose",
                [order_id],
                f"Dose not checked for {typed} ({names}): {parts[0].share_problem}.",
                key_parts=("not_checked", "combination"),
            )
        )
    findings.extend(check_usual_ranges(coverage.guides, view))
    return findings
