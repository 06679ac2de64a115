"""Titration rules (lamotrigine schedules, clozapine steps, aripiprazole spacing), generated
from the pack data."""

from __future__ import annotations

from dataclasses import replace

import pytest
from safety_cases import PACK, T0, by_rule, context, course, days, run, satisfy, step, with_extra

from domain.safety import PatientContext
from domain.safety.titration import WeeklySchedule
from domain.safety.titration_steps import MinInterval, StepLimits

WEEKLY = [r for r in PACK.titrations if isinstance(r, WeeklySchedule)]
STEPS = [r for r in PACK.titrations if isinstance(r, StepLimits)]
INTERVALS = [r for r in PACK.titrations if isinstance(r, MinInterval)]
ROWS = [(rule, n) for rule in WEEKLY for n in range(len(rule.weeks))]


def on_schedule(rule: WeeklySchedule, *courses: object) -> PatientContext:
    """A plan whose co-medication selects this schedule."""
    part = satisfy(rule.when, rule.drug, set()) if rule.when else {}
    return with_extra(context(*courses), part)  # type: ignore[arg-type]


def titrated(rule: WeeklySchedule, row: int, dose: float) -> PatientContext:
    """Doses at each earlier row's maximum, then ``dose`` at the start of ``row``."""
    steps = [step(T0 + days(7 * (week - 1)), limit) for week, limit in rule.weeks[:row]]
    steps.append(step(T0 + days(7 * (rule.weeks[row][0] - 1)), dose))
    return on_schedule(rule, course("lam", rule.drug, steps=steps))


def check(ctx: PatientContext, rule_id: str, at_step: int = -1) -> list:
    lam = next(c for c in ctx.medications if c.order_id == "lam")
    at = lam.steps[at_step].effective_at
    kind = "prescribed" if len(lam.steps) == 1 else "dose_changed"
    return by_rule(run(replace(ctx, now=at), kind, at, "lam"), rule_id)


@pytest.mark.parametrize(
    ("rule", "row"), ROWS, ids=[f"{r.rule.id}-week{r.weeks[n][0]}" for r, n in ROWS]
)
class TestWeeklySchedules:
    def test_the_scheduled_dose_is_quiet(self, rule: WeeklySchedule, row: int) -> None:
        assert check(titrated(rule, row, rule.weeks[row][1]), rule.rule.id) == []

    def test_more_than_the_scheduled_dose_is_flagged(self, rule: WeeklySchedule, row: int) -> None:
        found = check(titrated(rule, row, rule.weeks[row][1] * 1.5), rule.rule.id)
        assert [(f.kind, f.severity) for f in found] == [("titration", rule.rule.severity)]
        assert f"week {rule.weeks[row][0]}" in found[0].message


@pytest.mark.parametrize("rule", WEEKLY, ids=lambda r: r.rule.id)
class TestLamotrigineRestart:
    def _restart(self, rule: WeeklySchedule, off: float) -> PatientContext:
        full = rule.weeks[-1][1]
        old = course("old", rule.drug, full, start=T0 - days(120), stopped_at=T0 - days(off))
        return on_schedule(rule, old, course("lam", rule.drug, full, start=T0))

    def test_a_restart_within_the_gap_continues_the_titration(self, rule: WeeklySchedule) -> None:
        assert check(self._restart(rule, rule.restart_after_days - 1), rule.rule.id) == []

    def test_a_restart_after_the_gap_starts_the_titration_again(self, rule: WeeklySchedule) -> None:
        found = check(self._restart(rule, rule.restart_after_days + 2), rule.rule.id)
        assert len(found) == 1
        assert "starts again from week 1" in found[0].message


def clozapine(*steps: object, start: object = None) -> PatientContext:
    return context(course("lam", "clozapine", steps=steps))  # type: ignore[arg-type]


@pytest.mark.parametrize("rule", STEPS, ids=lambda r: r.rule.id)
class TestStepLimits:
    def test_the_label_start_is_quiet(self, rule: StepLimits) -> None:
        ctx = clozapine(
            step(
                T0,
                rule.start_max_single_mg,
                "twice daily"
                if rule.start_max_mg_per_day > rule.start_max_single_mg
                else "once daily",
            )
        )
        assert check(ctx, rule.rule.id) == []

    @pytest.mark.parametrize("dose", ["single", "daily"])
    def test_a_higher_start_is_flagged(self, rule: StepLimits, dose: str) -> None:
        if dose == "single":
            first = step(T0, rule.start_max_single_mg * 2)
        else:
            per_day = rule.start_max_mg_per_day / rule.start_max_single_mg + 1
            first = step(T0, rule.start_max_single_mg, f"{int(per_day)} times daily")
        assert len(check(clozapine(first), rule.rule.id)) == 1

    def test_each_phase_allows_its_step_and_no_more(self, rule: StepLimits) -> None:
        for phase in rule.phases:
            day = (phase.until_day or 100) - 1
            base = 200.0
            for increase, fires in ((phase.max_increase, False), (phase.max_increase + 25, True)):
                ctx = clozapine(
                    step(T0, 12.5, "twice daily"),
                    step(T0 + days(day - 7), base),
                    step(T0 + days(day), base + increase),
                )
                assert bool(check(ctx, rule.rule.id)) is fires, (phase, increase)

    def test_too_many_increases_in_a_week_are_flagged(self, rule: StepLimits) -> None:
        phase = next(p for p in rule.phases if p.max_increases_per_week)
        assert phase.max_increases_per_week is not None
        start = T0 - days(60)
        steps = [step(start, 12.5, "twice daily"), step(start + days(40), 300)]
        for n in range(phase.max_increases_per_week + 1):
            steps.append(step(start + days(54 + 2 * n), 300 + 25 * (n + 1)))
        assert len(check(clozapine(*steps), rule.rule.id)) == 1
        assert check(clozapine(*steps[:-1]), rule.rule.id) == []

    def test_a_restart_after_the_interruption_gap_needs_the_start_dose(
        self, rule: StepLimits
    ) -> None:
        for off, fires in ((rule.restart_after_days - 1, False), (rule.restart_after_days, True)):
            old = course("old", "clozapine", 300, start=T0 - days(90), stopped_at=T0 - days(off))
            ctx = context(old, course("lam", "clozapine", 300, start=T0))
            assert bool(check(ctx, rule.rule.id)) is fires, off


@pytest.mark.parametrize("rule", INTERVALS, ids=lambda r: r.rule.id)
class TestMinInterval:
    def _raise_after(self, rule: MinInterval, gap: float) -> list:
        steps = [step(T0 - days(gap), 10), step(T0, 15)]
        return check(context(course("lam", rule.drug, steps=steps)), rule.rule.id)

    def test_an_increase_after_the_interval_is_quiet(self, rule: MinInterval) -> None:
        assert self._raise_after(rule, rule.min_days) == []

    def test_an_earlier_increase_is_flagged(self, rule: MinInterval) -> None:
        assert len(self._raise_after(rule, rule.min_days - 1)) == 1
