"""Lab results outside the reference range: a serum lithium level above the target range.

Lithium has no mg maximum: it is dosed to its serum level, so the level is what must not
run high (the label's boxed warning: toxicity can occur near therapeutic levels). The
latest result of the test is compared with the top of the range; a result in another
unit is reported as not compared, never passed as in range. A later result back in range
makes the finding go away (the alert is closed as changed). ``urgent_above`` (a toxic
threshold) raises the severity to urgent; it is only set where the source gives one.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.context import Finding, LabResult
from domain.safety.plan_view import PlanView
from domain.safety.records import Provenance, Record, Vocabulary, check_template
from domain.safety.wording import day, finding, mg, stamp

RANGE_PLACEHOLDERS = {"test", "value", "unit", "limit", "date"}


@dataclass(frozen=True)
class LabRange:
    """The top of a test's reference range, in one of ``units`` (normalised, lower case)."""

    rule: Provenance
    test: str
    units: tuple[str, ...]  # as written in the pack; units[0] is the one messages use
    above: float
    urgent_above: float | None


def normalise_unit(unit: str | None) -> str:
    return "".join((unit or "").lower().split())


def read_lab_range(record: Record, rule_id: str, vocabulary: Vocabulary) -> LabRange:
    rule = record.provenance(rule_id, record.choice("severity", ("major", "moderate")))
    check_template(record, "message", rule.message, RANGE_PLACEHOLDERS)
    test = record.text("test")
    if test not in vocabulary.tests:
        raise record.fail("test", f"names an unknown lab test {test!r}")
    above = record.number("above")
    urgent = record.number("urgent_above") if record.has("urgent_above") else None
    if urgent is not None and urgent <= above:
        raise record.fail("urgent_above", "must be higher than 'above'")
    units = record.texts("units")
    if not units:
        raise record.fail("units", "is empty")
    return LabRange(rule, test, units, above, urgent)


def _latest(view: PlanView, test: str) -> LabResult | None:
    results = [lab for lab in view.labs(test) if lab.value is not None]
    return results[-1] if results else None


def check_lab_ranges(
    rules: tuple[LabRange, ...], view: PlanView, labels: dict[str, str]
) -> list[Finding]:
    findings = []
    for rule in rules:
        lab = _latest(view, rule.test)
        if lab is None or lab.value is None:
            continue
        name = labels.get(rule.test, rule.test)
        unit = normalise_unit(lab.unit)
        parts = (rule.test, stamp(lab.effective_at))
        if unit and unit not in {normalise_unit(u) for u in rule.units}:
            findings.append(
                finding(
                    rule.rule,
                    "lab_out_of_range",
                    [],
                    f"{name} {mg(lab.value)} {lab.unit} on {day(lab.effective_at)} is in a unit "
                    f"the rule pack cannot compare with its range ({rule.units[0]}): not checked",
                    severity="info",
                    key_parts=(*parts, "unit"),
                    action="Compare the result with the reference range by hand.",
                    test=rule.test,
                )
            )
            continue
        if lab.value <= rule.above:
            continue
        urgent = rule.urgent_above is not None and lab.value > rule.urgent_above
        message = rule.rule.message.format(
            test=name,
            value=mg(lab.value),
            unit=lab.unit or rule.units[0],
            limit=mg(rule.above),
            date=day(lab.effective_at),
        )
        findings.append(
            finding(
                rule.rule,
                "lab_out_of_range",
                [],
                message,
                key_parts=parts,
                severity="urgent" if urgent else None,
                test=rule.test,
            )
        )
    return findings
