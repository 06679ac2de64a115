"""Measurement-based-care prompts: a PHQ-9 due 30 days after the last one on an
antidepressant, and "consider a change" after >= 4 weeks at an adequate dose with < 20 %
improvement from the baseline."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import T0, context, course, days, run, step

from domain.safety import AssessmentPoint, Finding, PatientContext


def at(day: float) -> datetime:
    return T0 + days(day)


def phq9(day: float, total: int) -> AssessmentPoint:
    return AssessmentPoint("PHQ-9", total, (), at(day))


def care(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def on(day: float) -> date:
    return at(day).date()


def plan(*, steps: list[tuple[float, float]], scores: list[tuple[float, int]], day: float,
         drug: str = "sertraline", stopped: float | None = None) -> PatientContext:  # fmt: skip
    taken = course(
        "ad",
        drug,
        steps=[step(at(d), mg) for d, mg in steps],
        stopped_at=at(stopped) if stopped is not None else None,
    )
    return context(taken, now=at(day), assessments=[phq9(d, t) for d, t in scores])


class TestReassessmentDue:
    def test_due_30_days_after_the_last_phq9_dated_and_naming_the_drug(self) -> None:
        found = care(
            run(plan(steps=[(0, 50)], scores=[(-2, 18), (20, 15)], day=21)), "reassessment_due"
        )
        [item] = found
        assert item.due_at == at(50)
        assert item.order_ids == ()  # about the patient, whichever antidepressants
        assert "antidepressant" in item.message
        assert on(50).isoformat() in item.message

    def test_with_no_phq9_ever_it_is_due_at_the_start(self) -> None:
        [item] = care(run(plan(steps=[(0, 50)], scores=[], day=1)), "reassessment_due")
        assert item.due_at == at(0)
        assert "never" in item.message

    def test_a_score_long_before_the_start_makes_it_due_at_the_start(self) -> None:
        [item] = care(run(plan(steps=[(0, 50)], scores=[(-90, 18)], day=1)), "reassessment_due")
        assert item.due_at == at(0)

    def test_a_new_phq9_moves_it_to_a_new_item(self) -> None:
        before = care(run(plan(steps=[(0, 50)], scores=[(1, 18)], day=2)), "reassessment_due")
        after = care(
            run(plan(steps=[(0, 50)], scores=[(1, 18), (25, 14)], day=26)), "reassessment_due"
        )
        assert before[0].key != after[0].key  # the earlier item closes, a new one opens
        assert after[0].due_at == at(55)

    def test_a_second_antidepressant_leaves_the_item_as_it_was(self) -> None:
        one = plan(steps=[(0, 50)], scores=[(1, 18)], day=2)
        two = context(
            *one.medications,
            course("ad2", "mirtazapine", steps=[step(at(10), 15)]),
            now=at(11),
            assessments=one.assessments,
        )
        before = care(run(one), "reassessment_due")
        after = care(run(two), "reassessment_due")
        assert [(f.key, f.message) for f in after] == [(f.key, f.message) for f in before]

    def test_no_antidepressant_no_item(self) -> None:
        assert (
            care(run(plan(drug="lithium", steps=[(0, 400)], scores=[], day=40)), "reassessment_due")
            == []
        )

    def test_a_stopped_antidepressant_is_not_reassessed(self) -> None:
        ctx = plan(steps=[(0, 50)], scores=[(1, 18)], day=60, stopped=30)
        assert care(run(ctx), "reassessment_due") == []


class TestConsiderAChange:
    def test_under_20_percent_after_4_weeks_at_an_adequate_dose(self) -> None:
        ctx = plan(steps=[(0, 50)], scores=[(-3, 20), (35, 17)], day=36)
        [item] = care(run(ctx), "consider_change")
        assert item.order_ids == ("ad",)
        assert "15 % fall" in item.message
        assert "5 weeks" in item.message

    @pytest.mark.parametrize(
        ("steps", "scores", "day"),
        [
            pytest.param([(0, 50)], [(-3, 20), (21, 19)], 22, id="too-early"),
            pytest.param([(0, 25)], [(-3, 20), (50, 19)], 51, id="below-the-adequate-dose"),
            pytest.param(
                [(0, 50)], [(-3, 20), (35, 16)], 36, id="improvement-of-20-percent-or-more"
            ),
            pytest.param([(0, 50)], [(-40, 20), (35, 19)], 36, id="without-a-baseline"),
        ],
    )
    def test_no_prompt(
        self, steps: list[tuple[float, float]], scores: list[tuple[float, int]], day: float
    ) -> None:
        ctx = plan(steps=steps, scores=scores, day=day)
        assert care(run(ctx), "consider_change") == []

    def test_weeks_count_from_when_the_dose_became_adequate(self) -> None:
        ctx = plan(steps=[(0, 25), (21, 50)], scores=[(-3, 20), (42, 19)], day=43)
        assert care(run(ctx), "consider_change") == []  # 3 weeks at 50 mg
        later = plan(steps=[(0, 25), (21, 50)], scores=[(-3, 20), (50, 19)], day=51)
        assert len(care(run(later), "consider_change")) == 1

    @given(
        baseline=st.integers(1, 27),
        latest=st.integers(0, 27),
        weeks=st.integers(0, 12),
    )
    def test_prompts_exactly_when_the_fall_is_under_20_percent_after_4_weeks(
        self, baseline: int, latest: int, weeks: int
    ) -> None:
        ctx = plan(steps=[(0, 50)], scores=[(-1, baseline), (7 * weeks, latest)], day=7 * weeks)
        fall = 100 * (baseline - latest) / baseline
        expected = weeks >= 4 and fall < 20 and latest >= 5
        assert bool(care(run(ctx), "consider_change")) == expected
