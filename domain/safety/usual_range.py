"""Drugs without a label maximum still have a usual range and a physical ceiling.

Lithium has no maximum in mg (it is dosed to its serum level), so no maximum-dose rule
reads it; but 2700 mg/day is far above the label's usual range, and 30 g/day is no dose at
all. A "no label maximum" entry of the rule pack (``dose_coverage.no_label_maximum``) may
therefore give:

- ``usual_max_mg_per_day`` (with ``usual_severity``, ``usual_note``, ``usual_action``): a
  daily total above it raises an alert that says the dose is above the usual range and
  what to check, and says that this is not a hard maximum;
- ``implausible_above_mg_per_day`` (with ``implausible_basis``): a dose above it is
  refused before it is stored (``plausibility``), as a dose ten times a maximum is for
  drugs that have one. It is an absolute figure, not a factor, because the drugs that
  need it have no maximum to multiply (lithium) or only a per-kg one whose multiple at a
  heavy weight is no guard at all (valproate: 10 x 60 mg/kg at 150 kg is 90 g/day).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.context import Finding
from domain.safety.frequency import readable_daily_mg
from domain.safety.matching import labels
from domain.safety.plan_view import PlanView
from domain.safety.records import SEVERITIES, Provenance, Record
from domain.safety.wording import finding, mg

USUAL_RULE_ID = "PACK-DOSE-USUAL-RANGE"


@dataclass(frozen=True)
class DoseGuide:
    """What the pack says of the dose of a drug that has no label maximum."""

    drug: str
    usual: Provenance | None  # the usual-range alert's severity, note and action
    usual_max_per_day: float | None
    implausible_above: float | None  # mg/day; a dose above it is refused
    implausible_basis: str


def read_dose_guide(item: Record, drug: str) -> DoseGuide:
    usual, usual_max = None, None
    if item.has("usual_max_mg_per_day"):
        usual_max = item.number("usual_max_mg_per_day")
        if usual_max <= 0:
            raise item.fail("usual_max_mg_per_day", "must be positive")
        usual = Provenance(
            id=USUAL_RULE_ID,
            severity=item.choice("usual_severity", SEVERITIES),
            message=item.text("usual_note"),
            action=item.text("usual_action"),
            source=item.text("source"),
            evidence=item.choice("evidence", ("V", "K")),
        )
    ceiling = None
    if item.has("implausible_above_mg_per_day"):
        ceiling = item.number("implausible_above_mg_per_day")
        if ceiling <= (usual_max or 0.0):
            raise item.fail("implausible_above_mg_per_day", "must be above the usual maximum")
    basis = item.text("implausible_basis") if ceiling is not None else ""
    return DoseGuide(drug, usual, usual_max, ceiling, basis)


def check_usual_ranges(guides: Mapping[str, DoseGuide], view: PlanView) -> list[Finding]:
    """A daily total above the usual range of a drug without a label maximum."""
    findings = []
    for guide in guides.values():
        if guide.usual is None or guide.usual_max_per_day is None:
            continue
        courses = [c for c in view.active if c.drug == guide.drug and c.steps]
        total = 0.0
        for course in courses:
            daily = readable_daily_mg(course.steps[-1])
            if daily is not None and math.isfinite(daily):
                total += daily
        if total <= guide.usual_max_per_day + 1e-9:
            continue
        findings.append(
            finding(
                guide.usual,
                "max_dose",
                [c.order_id for c in courses],
                f"{labels(courses)} {mg(total)} mg/day is above {mg(guide.usual_max_per_day)} "
                f"mg/day, {guide.usual.message}",
                key_parts=("usual_range",),
            )
        )
    return findings
