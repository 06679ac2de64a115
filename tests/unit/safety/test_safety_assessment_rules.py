"""Assessment rules (suicide-risk item, worsening total), generated from the pack data."""

from __future__ import annotations

import pytest
from safety_cases import PACK, T0, by_rule, context, days, run

from domain.safety import AssessmentPoint
from domain.safety.assessments import ItemAbove, TotalRise

ITEMS = [r for r in PACK.assessments if isinstance(r, ItemAbove)]
RISES = [r for r in PACK.assessments if isinstance(r, TotalRise)]


def answers(rule: ItemAbove, score: int) -> AssessmentPoint:
    items = [1] * 9
    items[rule.item - 1] = score
    return AssessmentPoint(rule.instrument, sum(items), tuple(items), T0)


@pytest.mark.parametrize("rule", ITEMS, ids=lambda r: r.rule.id)
class TestItemRules:
    def test_a_score_above_the_threshold_is_urgent(self, rule: ItemAbove) -> None:
        ctx = context(assessments=[answers(rule, rule.threshold + 1)])
        found = by_rule(run(ctx, "assessment", T0), rule.rule.id)
        assert [(f.kind, f.severity) for f in found] == [(rule.kind, rule.rule.severity)]
        assert found[0].kind == "suicide_risk"
        assert found[0].severity == "urgent"

    def test_a_score_at_the_threshold_is_quiet(self, rule: ItemAbove) -> None:
        ctx = context(assessments=[answers(rule, rule.threshold)])
        assert by_rule(run(ctx, "assessment", T0), rule.rule.id) == []

    def test_an_old_answer_raises_nothing_on_another_write(self, rule: ItemAbove) -> None:
        ctx = context(assessments=[answers(rule, rule.threshold + 2)])
        assert by_rule(run(ctx, "lab", T0 + days(1)), rule.rule.id) == []
        assert by_rule(run(ctx, "assessment", T0 + days(1)), rule.rule.id) == []

    def test_another_instrument_is_not_read_as_this_one(self, rule: ItemAbove) -> None:
        point = AssessmentPoint("GAD-7", 7, (1, 1, 1, 1, 1, 1, 1, 3, 3), T0)
        assert by_rule(run(context(assessments=[point]), "assessment", T0), rule.rule.id) == []


@pytest.mark.parametrize("rule", RISES, ids=lambda r: r.rule.id)
class TestRiseRules:
    def _pair(self, rule: TotalRise, rise: int) -> list:
        first = AssessmentPoint(rule.instrument, 8, (), T0 - days(28))
        second = AssessmentPoint(rule.instrument, 8 + rise, (), T0)
        return run(context(assessments=[first, second]), "assessment", T0)

    def test_a_rise_by_the_threshold_is_worsening(self, rule: TotalRise) -> None:
        found = by_rule(self._pair(rule, rule.min_rise), rule.rule.id)
        assert [(f.kind, f.severity) for f in found] == [("worsening", "moderate")]
        assert f"from 8 to {8 + rule.min_rise}" in found[0].message

    def test_a_smaller_rise_is_quiet(self, rule: TotalRise) -> None:
        assert by_rule(self._pair(rule, rule.min_rise - 1), rule.rule.id) == []

    def test_the_previous_of_the_same_instrument_counts_across_others_and_a_long_record(
        self, rule: TotalRise
    ) -> None:
        """The rule reads only the points around the change (bisection): the one before
        is found past other instruments, and later or much older answers do not count."""
        older = [AssessmentPoint(rule.instrument, 27, (), T0 - days(400 - i)) for i in range(300)]
        before = AssessmentPoint(rule.instrument, 8, (), T0 - days(20))
        others = [AssessmentPoint("other-scale", 0, (), T0 - days(d)) for d in (15, 10, 5)]
        now = AssessmentPoint(rule.instrument, 8 + rule.min_rise, (), T0)
        later = AssessmentPoint(rule.instrument, 0, (), T0 + days(7))
        ctx = context(assessments=[*older, before, *others, now, later])
        found = by_rule(run(ctx, "assessment", T0), rule.rule.id)
        assert [f.kind for f in found] == ["worsening"]
        assert f"from 8 to {8 + rule.min_rise}" in found[0].message
        late = by_rule(run(ctx, "assessment", T0 - days(20)), rule.rule.id)  # 27 -> 8: better
        assert late == []

    def test_a_first_assessment_has_nothing_to_compare(self, rule: TotalRise) -> None:
        point = AssessmentPoint(rule.instrument, 27, (), T0)
        assert by_rule(run(context(assessments=[point]), "assessment", T0), rule.rule.id) == []


def test_the_total_is_summed_from_items_when_missing() -> None:
    rule = RISES[0]
    first = AssessmentPoint(rule.instrument, None, (1,) * 9, T0 - days(14))
    second = AssessmentPoint(rule.instrument, None, (2,) * 9, T0)
    found = run(context(assessments=[first, second]), "assessment", T0)
    assert by_rule(found, rule.rule.id)
