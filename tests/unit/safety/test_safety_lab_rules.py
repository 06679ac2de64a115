"""Lab-range rules (a lithium level above the target range), generated from the pack data."""

from __future__ import annotations

from dataclasses import replace

import pytest
from safety_cases import PACK, T0, by_rule, context, course, days, run

from domain.safety import Change, LabResult
from domain.safety.lab_ranges import LabRange, check_lab_ranges
from domain.safety.plan_view import PlanView

RANGES = list(PACK.lab_ranges)
LABELS = {name: test.label for name, test in PACK.lab_tests.items()}


def level(value: float | None, at: float = 0, unit: str | None = "mmol/L") -> LabResult:
    return LabResult("lithium level", T0 + days(at), value, unit)


def on_lithium(*labs: LabResult) -> list:
    return run(context(course("o1", "lithium", 400, "twice daily"), labs=labs))


@pytest.mark.parametrize("rule", RANGES, ids=lambda r: r.rule.id)
class TestLabRanges:
    def _ctx(self, rule: LabRange, value: float, unit: str | None) -> list:
        lab = LabResult(rule.test, T0, value, unit)
        return by_rule(run(context(labs=[lab])), rule.rule.id)

    def test_a_result_at_the_top_of_the_range_is_quiet(self, rule: LabRange) -> None:
        assert self._ctx(rule, rule.above, rule.units[0]) == []

    def test_a_result_above_the_range_fires_with_the_value_and_the_limit(
        self, rule: LabRange
    ) -> None:
        found = self._ctx(rule, rule.above + 0.1, rule.units[0])
        assert [(f.kind, f.severity, f.test) for f in found] == [
            ("lab_out_of_range", rule.rule.severity, rule.test)
        ]
        assert mg_text(rule.above + 0.1) in found[0].message
        assert found[0].source == rule.rule.source

    def test_every_listed_unit_is_compared(self, rule: LabRange) -> None:
        for unit in rule.units:
            assert len(self._ctx(rule, rule.above * 2, unit)) == 1

    def test_a_result_in_another_unit_is_reported_as_not_compared(self, rule: LabRange) -> None:
        found = self._ctx(rule, rule.above / 10, "mg/dL")
        assert [f.severity for f in found] == ["info"]
        assert "not checked" in found[0].message


def mg_text(value: float) -> str:
    return f"{round(value, 2):g}"


class TestLithiumLevel:
    def test_a_level_of_1_6_is_a_major_alert_naming_the_range(self) -> None:
        [found] = by_rule(on_lithium(level(1.6)), "LAB-LITHIUM-LEVEL-HIGH")
        assert found.severity == "major"
        assert found.message.startswith("Serum lithium level (12-hour trough) 1.6 mmol/L on ")
        assert "up to 1.2 mmol/L" in found.message

    def test_a_level_in_the_range_is_quiet(self) -> None:
        assert by_rule(on_lithium(level(0.9)), "LAB-LITHIUM-LEVEL-HIGH") == []

    def test_only_the_latest_result_counts(self) -> None:
        labs = (level(1.6, at=-7), level(0.9, at=-1))
        assert by_rule(on_lithium(*labs), "LAB-LITHIUM-LEVEL-HIGH") == []

    def test_a_new_high_result_is_a_new_finding(self) -> None:
        first = by_rule(on_lithium(level(1.5, at=-7)), "LAB-LITHIUM-LEVEL-HIGH")
        second = by_rule(on_lithium(level(1.5, at=-7), level(1.4, at=-1)), "LAB-LITHIUM-LEVEL-HIGH")
        assert first[0].key != second[0].key

    def test_a_result_without_a_unit_is_read_in_mmol_per_litre(self) -> None:
        [found] = by_rule(on_lithium(level(1.5, unit=None)), "LAB-LITHIUM-LEVEL-HIGH")
        assert "1.5 mmol/L" in found.message

    def test_meq_per_litre_is_the_same_scale(self) -> None:
        [found] = by_rule(on_lithium(level(1.3, unit="mEq/L")), "LAB-LITHIUM-LEVEL-HIGH")
        assert found.severity == "major"

    def test_a_result_without_a_value_is_ignored(self) -> None:
        assert by_rule(on_lithium(level(None)), "LAB-LITHIUM-LEVEL-HIGH") == []

    def test_above_a_toxic_threshold_the_alert_is_urgent(self) -> None:
        rule = replace(PACK.lab_ranges[0], urgent_above=2.0)
        ctx = context(labs=[level(2.4)])
        view = PlanView(ctx, Change("lab", ctx.now), PACK.index, PACK.test_names)
        [found] = check_lab_ranges((rule,), view, LABELS)
        assert found.severity == "urgent"
