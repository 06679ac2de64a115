"""Monitoring rules, generated from the pack data: what is due, when, and what satisfies it."""

from __future__ import annotations

from datetime import datetime

import pytest
from safety_cases import (
    PACK,
    T0,
    by_rule,
    context,
    course,
    days,
    members,
    satisfy,
    step,
    with_extra,
)

from domain.safety import Change, Finding, LabResult, PatientContext
from domain.safety.monitoring import MonitoringRule, check_monitoring
from domain.safety.monitoring_schedules import AfterEvents, Baseline, Milestones, Rolling
from domain.safety.plan_view import PlanView

RULES = list(PACK.monitoring)


def run_rules(
    ctx: PatientContext,
    kind: str = "lab",
    at: datetime | None = None,
    order_id: str | None = None,
) -> list[Finding]:
    """The per-test checks, before the engine lists them in one alert per prescription
    (``domain.safety.monitoring_plan``, tested in test_safety_monitoring_plan.py)."""
    view = PlanView(ctx, Change(kind, at or ctx.now, order_id), PACK.index, PACK.test_names)
    labels = {name: test.label for name, test in PACK.lab_tests.items()}
    return check_monitoring(PACK.monitoring, view, labels)


def plan(rule: MonitoringRule, *labs: LabResult, extra: tuple = ()) -> PatientContext:
    drug = members(rule.drugs)[0]
    ctx = context(course("o1", drug, 10, start=T0), *extra, labs=labs, now=T0 + days(1))
    if rule.when is not None:
        ctx = with_extra(ctx, satisfy(rule.when, drug, set()))
    return ctx


def due(rule: MonitoringRule, ctx: PatientContext) -> list[datetime | None]:
    return [f.due_at for f in by_rule(run_rules(ctx), rule.rule.id)]


def lab(rule: MonitoringRule, at: datetime) -> LabResult:
    return LabResult(rule.test, at)  # done (a value is judged by the lab-range rules)


def started(rule: MonitoringRule) -> tuple[LabResult, ...]:
    """Results that make a periodic check without a baseline the earliest for its test
    (a 6-monthly lithium level comes after the level that follows the start)."""
    schedule = rule.schedule
    if isinstance(schedule, Rolling) and not schedule.baseline:
        return (lab(rule, T0 + days(1)),)
    return ()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.id)
class TestMonitoringRules:
    def test_the_first_check_is_due_when_the_schedule_says(self, rule: MonitoringRule) -> None:
        schedule = rule.schedule
        if isinstance(schedule, AfterEvents):
            assert due(rule, plan(rule)) == [T0 + days(schedule.due_days)]
        elif isinstance(schedule, Rolling):
            after_start = lab(rule, T0 + days(1))  # a result after the start, for a level
            expected = T0 + days(1 + schedule.phases[0].every_days)
            if schedule.baseline:
                assert due(rule, plan(rule)) == [T0]
            assert due(rule, plan(rule, after_start)) == [expected]
        elif isinstance(schedule, Milestones):
            first = T0 + days(schedule.days[0] if schedule.days else schedule.then_every_days or 0)
            if schedule.baseline:
                assert due(rule, plan(rule)) == [T0]
                assert due(rule, plan(rule, lab(rule, T0 - days(1)))) == [first]
            else:
                assert due(rule, plan(rule)) == [first]
        else:
            assert isinstance(schedule, Baseline)
            assert due(rule, plan(rule)) == [T0]

    def test_a_finding_names_the_test_and_order(self, rule: MonitoringRule) -> None:
        found = by_rule(run_rules(plan(rule, *started(rule))), rule.rule.id)
        assert [(f.kind, f.test, f.order_ids[0]) for f in found] == [
            ("monitoring_due", rule.test, "o1")
        ]
        assert PACK.lab_tests[rule.test].label in found[0].message

    def test_a_result_moves_the_check_on_or_satisfies_it(self, rule: MonitoringRule) -> None:
        before = due(rule, plan(rule, *started(rule)))
        assert len(before) == 1
        result_at = (before[0] or T0) + days(1)
        after = due(rule, plan(rule, *started(rule), lab(rule, result_at)))
        assert after != before
        assert all(d is not None and d > result_at for d in after)

    def test_a_stopped_course_needs_no_monitoring(self, rule: MonitoringRule) -> None:
        drug = members(rule.drugs)[0]
        ctx = context(course("o1", drug, 10, start=T0 - days(30), stopped_at=T0))
        assert by_rule(run_rules(ctx, "lab", T0 + days(1)), rule.rule.id) == []


class TestMonitoringExamples:
    def test_a_lithium_level_is_due_a_week_after_a_dose_change(self) -> None:
        li = course(
            "o1",
            "lithium",
            steps=[step(T0 - days(60), 300, "twice daily"), step(T0, 400, "twice daily")],
        )
        ctx = context(li, labs=[LabResult("lithium level", T0 - days(30), 0.7)])
        found = by_rule(run_rules(ctx, "dose_changed", T0, "o1"), "MON-LITHIUM-LEVEL")
        assert found[0].due_at == T0 + days(7)
        assert "dose change" in found[0].message

    def test_a_level_after_the_change_satisfies_it_and_the_6_monthly_one_follows(self) -> None:
        ctx = context(
            course("o1", "lithium", 300, "twice daily", start=T0),
            labs=[LabResult("Lithium", T0 + days(6), 0.8)],
        )
        found = [f for f in run_rules(ctx) if f.test == "lithium_level"]
        assert [(f.rule_id, f.due_at) for f in found] == [
            ("MON-LITHIUM-LEVEL-6M", T0 + days(6 + 182))
        ]

    def test_stopping_an_nsaid_makes_a_lithium_level_due_again(self) -> None:
        ctx = context(
            course("o1", "lithium", 300, "twice daily", start=T0 - days(90)),
            course("o2", "naproxen", 250, "twice daily", start=T0 - days(20), stopped_at=T0),
            labs=[LabResult("lithium_level", T0 - days(10), 0.8)],
        )
        found = by_rule(run_rules(ctx, "discontinued", T0, "o2"), "MON-LITHIUM-LEVEL")
        assert [(f.order_ids, f.due_at) for f in found] == [(("o1", "o2"), T0 + days(7))]

    def test_the_hla_screen_is_only_for_patients_of_asian_ancestry(self) -> None:
        ctx = context(course("o1", "carbamazepine", 200, "twice daily"))
        assert by_rule(run_rules(ctx), "MON-CARBAMAZEPINE-HLA") == []
