"""Continuing therapy and monitoring per prescription, as pure rules: a course that
continues established therapy is judged from its true start (no baseline, no check due
before the order, no start-dose or titration finding), and each prescription's checks
come as one finding listing them, keyed by its orders so that a result supersedes it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from safety_cases import PACK, T0, born_aged, context, course, days, members, run

from domain.safety import LabResult, MedicationCourse
from domain.safety.monitoring_plan import describe
from domain.safety.monitoring_schedules import Milestones, Rolling

MONITORED = sorted({d for rule in PACK.monitoring for d in members(rule.drugs)})
TITRATED = ["clozapine", "lamotrigine"]


def continuing(drug: str, amount: float, since_days: float) -> MedicationCourse:
    return replace(course("o1", drug, amount), continuing_since=T0 - days(since_days))


def monitoring(found: list) -> list:  # type: ignore[type-arg]
    return [f for f in found if f.kind == "monitoring_due"]


class TestAContinuingCourse:
    @settings(max_examples=60, deadline=None)
    @given(
        drug=st.sampled_from(MONITORED),
        since_days=st.floats(min_value=0, max_value=4000),
        now_after=st.floats(min_value=0, max_value=400),
    )
    def test_no_check_is_ever_due_before_the_order_took_over(
        self, drug: str, since_days: float, now_after: float
    ) -> None:
        ctx = context(
            continuing(drug, 10, since_days), now=T0 + days(now_after), birth_date=born_aged(40)
        )
        for finding in monitoring(run(ctx, "prescribed", T0, "o1")):
            assert finding.due_at is not None
            assert finding.due_at >= T0
            assert "baseline" not in finding.message

    @settings(max_examples=60, deadline=None)
    @given(
        drug=st.sampled_from(TITRATED),
        amount=st.floats(min_value=12.5, max_value=400),
        since_days=st.floats(min_value=60, max_value=4000),
    )
    def test_no_start_dose_or_titration_finding_whatever_the_dose(
        self, drug: str, amount: float, since_days: float
    ) -> None:
        ctx = context(continuing(drug, amount, since_days), birth_date=born_aged(40))
        assert [f for f in run(ctx, "prescribed", T0, "o1") if f.kind == "titration"] == []

    def test_clozapine_after_three_years_is_on_monthly_ancs(self) -> None:
        ctx = context(continuing("clozapine", 300, 3 * 365), birth_date=born_aged(40))
        [found] = monitoring(run(ctx, "prescribed", T0, "o1"))
        assert "monthly after 12 months" in found.message
        assert "weekly in the first 6 months" not in found.message
        assert found.due_at == T0
        anc = LabResult("anc", T0 + days(1), 3000)
        later = context(continuing("clozapine", 300, 3 * 365), labs=[anc], now=T0 + days(2))
        [next_one] = monitoring(run(later, "lab", T0 + days(1)))
        assert "(ANC) due by " + (T0 + days(31)).date().isoformat() in next_one.message

    def test_a_new_start_still_gets_its_baseline_and_start_dose_check(self) -> None:
        ctx = context(course("o1", "clozapine", 300), birth_date=born_aged(40))
        found = run(ctx, "prescribed", T0, "o1")
        assert [f for f in found if f.kind == "titration"]
        [plan] = monitoring(found)
        assert "a baseline before the start" in plan.message


class TestOneFindingPerPrescription:
    @settings(max_examples=40, deadline=None)
    @given(drug=st.sampled_from(MONITORED))
    def test_each_monitored_drug_gives_exactly_one_monitoring_finding(self, drug: str) -> None:
        ctx = context(
            course("o1", drug, 10), birth_date=born_aged(40), facts={"asian_ancestry": "yes"}
        )
        found = monitoring(run(ctx, "prescribed", T0, "o1"))
        assert len(found) == 1
        assert found[0].key == "MONITORING|o1"

    def test_a_result_keeps_the_key_and_changes_the_message(self) -> None:
        before = context(course("o1", "olanzapine", 10), birth_date=born_aged(40))
        weight = LabResult("weight", T0, 80)
        after = context(course("o1", "olanzapine", 10), birth_date=born_aged(40), labs=[weight])
        [first] = monitoring(run(before, "prescribed", T0, "o1"))
        [second] = monitoring(run(after, "lab", T0))
        assert first.key == second.key
        assert first.message != second.message
        assert "Weight (BMI) due by " + (T0 + days(28)).date().isoformat() in second.message

    def test_two_drugs_give_two_findings(self) -> None:
        ctx = context(
            course("o1", "olanzapine", 10),
            course("o2", "lithium", 600),
            birth_date=born_aged(40),
        )
        found = monitoring(run(ctx, "prescribed", T0, "o2"))
        assert sorted(f.key for f in found) == ["MONITORING|o1", "MONITORING|o2"]


class TestScheduleWording:
    def test_each_schedule_in_the_pack_is_described_without_raw_day_counts(self) -> None:
        for rule in PACK.monitoring:
            text = describe(rule.schedule)
            assert text
            assert "52.14" not in text
            if isinstance(rule.schedule, Rolling):
                assert rule.schedule.phases[-1].label in text
            if isinstance(rule.schedule, Milestones) and rule.schedule.days:
                assert "week" in text

    def test_a_continuing_course_is_described_from_the_phase_it_is_in(self) -> None:
        anc = next(r for r in PACK.monitoring if r.rule.id == "MON-CLOZAPINE-ANC")
        assert describe(anc.schedule, 3 * 365) == "monthly after 12 months"
