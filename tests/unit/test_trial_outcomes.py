"""Medication trials from the folded plan (``domain.trials``) and what they came to
(``domain.trial_outcomes``), and team outcomes with small cells suppressed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.adequate_doses import adequate_doses
from domain.plan import PlanState
from domain.team_outcomes import team_outcomes
from domain.trial_outcomes import days_at_adequate, episode_start, judge, outcome
from domain.trial_storage import trial_as_dict, trial_from_dict
from domain.trials import Score, Step, Trial, trials

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(day: float) -> datetime:
    return T0 + timedelta(days=day)


def order(
    oid: str,
    drug: str,
    steps: Sequence[tuple[float, float] | tuple[float, float, str]],
    stop: float | None = None,
) -> Any:
    """An order's plan entry; each step ``(day, mg)`` taken daily, or ``(day, mg, frequency)``."""
    return {
        "order_id": oid,
        "drug": {"name": drug},
        "indication": "depression",
        "since": at(steps[0][0]),
        "steps": [
            {"effective_at": at(d), "dose": {"amount": mg, "unit": "mg"}, "frequency": f}
            for d, mg, f in ((*s, "daily")[:3] for s in steps)
        ],
        "stopped_at": at(stop) if stop is not None else None,
        "stop_reason": "no effect" if stop is not None else None,
        "continuing": None,
    }


def plan(*orders: Any, scores: list[tuple[float, int]] = ()) -> Any:  # type: ignore[assignment]
    return PlanState.from_dict(
        {
            "orders": {o["order_id"]: o for o in orders},
            "assessments": [
                {"instrument": "PHQ-9", "total": t, "effective_at": at(d)} for d, t in scores
            ],
        }
    )


def sertraline(steps: list[tuple[float, float]], scores: list[tuple[float, int]]) -> Trial:
    return Trial(
        "t", ("t",), "sertraline", "SSRI", True, "depression", at(0), None, None, None,
        tuple(Step(at(d), mg, "mg", "daily", mg) for d, mg in steps),
        adequate_doses()["sertraline"], {}, (), "PHQ-9",
        Score(20, at(-1)), tuple(Score(t, at(d)) for d, t in scores),
    )  # fmt: skip


class TestTrialBoundaries:
    def test_a_reorder_within_a_day_of_the_stop_continues_the_trial(self) -> None:
        found = trials(
            plan(order("a", "sertraline", [(0, 50)], 30), order("b", "Zoloft", [(30.5, 100)]))
        )
        assert [t.order_ids for t in found] == [("a", "b")]

    def test_a_restart_after_a_gap_is_a_new_trial(self) -> None:
        found = trials(
            plan(order("a", "sertraline", [(0, 50)], 30), order("b", "sertraline", [(40, 50)]))
        )
        assert [t.order_ids for t in found] == [("a",), ("b",)]

    def test_two_drugs_are_two_trials_and_a_stored_trial_reads_back_equal(self) -> None:
        state = plan(
            order("a", "sertraline", [(0, 50)]),
            order("b", "mirtazapine", [(3, 15)]),
            scores=[(-2, 18), (20, 9)],
        )
        found = trials(state)
        assert [t.drug for t in found] == ["sertraline", "mirtazapine"]
        assert all(trial_from_dict(trial_as_dict(t)) == t for t in found)
        assert found[0].baseline == Score(18, at(-2))


class TestAdequacy:
    @given(
        doses=st.lists(st.sampled_from([25, 50, 100, 150]), min_size=1, max_size=5),
        gaps=st.lists(st.integers(1, 30), min_size=5, max_size=5),
        until=st.integers(0, 120),
    )
    def test_days_at_adequate_dose_equal_a_day_by_day_count(
        self, doses: list[int], gaps: list[int], until: int
    ) -> None:
        days, steps = 0, []
        for mg, gap in zip(doses, gaps, strict=False):
            steps.append((days, mg))
            days += gap
        trial = sertraline(steps, [])

        def dose_on(day: int) -> int:  # the last step taken by that day
            return [mg for d, mg in steps if d <= day][-1]

        by_day = sum(1 for day in range(until) if dose_on(day) >= 50)
        assert days_at_adequate(trial, at(until)) == by_day


class TestOutcome:
    @given(latest=st.integers(0, 27), week=st.integers(1, 12))
    def test_the_outcome_follows_the_reference_thresholds(self, latest: int, week: int) -> None:
        trial = sertraline([(0, 50)], [(7 * week, latest)])
        fall = 100 * (20 - latest) / 20
        if latest < 5:
            expected = "remission"
        elif fall >= 50:
            expected = "response"
        elif fall < 20 and week >= 4:
            expected = "minimal improvement"
        elif week >= 6:
            expected = "partial response"
        else:
            expected = "too early to judge"
        assert outcome(trial) == expected

    def test_no_score_during_the_trial_is_not_assessed(self) -> None:
        assert judge(sertraline([(0, 50)], []), at(60))["outcome"] == "not assessed"


class TestInadequateDose:
    @given(weeks=st.integers(0, 20), latest=st.integers(5, 27), stopped=st.booleans())
    def test_a_trial_never_at_the_minimum_is_never_too_early_once_6_weeks_or_ended(
        self, weeks: int, latest: int, stopped: bool
    ) -> None:
        trial = replace(
            sertraline([(0, 25)], [(7 * weeks, latest)]),
            stopped_at=at(7 * weeks) if stopped else None,
        )
        judged = outcome(trial, at(7 * weeks))
        if 100 * (20 - latest) / 20 >= 50:
            assert judged == "response"
        elif stopped or weeks >= 6:
            assert judged == "inadequate dose"
        else:
            assert judged == "too early to judge"

    def test_a_trial_that_reached_the_minimum_once_is_judged_as_usual(self) -> None:
        trial = sertraline([(0, 25), (7, 50), (14, 25)], [(70, 19)])
        assert outcome(trial, at(70)) != "inadequate dose"

    def test_judge_reads_the_running_time_at_now_without_a_new_score(self) -> None:
        trial = sertraline([(0, 25)], [(14, 18)])
        assert judge(trial, at(20))["outcome"] == "too early to judge"
        assert judge(trial, at(43))["outcome"] == "inadequate dose"


class TestEpisode:
    def test_a_relapse_after_remission_starts_a_new_episode(self) -> None:
        state = plan(scores=[(0, 20), (50, 3), (80, 14)])
        assert episode_start(state) == at(80)

    def test_without_a_boundary_the_whole_record_is_one_episode(self) -> None:
        assert episode_start(plan(scores=[(0, 20), (50, 12)])) is None


def rows(patients: int, trials_each: int = 1, outcome: str = "response") -> list[dict[str, Any]]:
    return [
        {
            "patient_id": f"p{p}",
            "drug_class": "SSRI",
            "instrument": "PHQ-9",
            "outcome": outcome,
            "weeks_to_response": 6.0,
        }
        for p in range(patients)
        for _ in range(trials_each)
    ]


class TestTeamOutcomes:
    def test_four_patients_are_suppressed_however_many_trials_they_had(self) -> None:
        [cell] = team_outcomes(rows(4, trials_each=3))["classes"]
        assert cell["suppressed"] is True
        assert cell["trials"] is None

    def test_five_patients_are_shown_with_the_trials_behind_them(self) -> None:
        [cell] = team_outcomes(rows(5, trials_each=2))["classes"]
        assert (cell["patients"], cell["trials"], cell["response_rate"]) == (5, 10, 100.0)

    def test_trials_too_early_to_judge_are_not_in_the_rates(self) -> None:
        data = rows(5) + rows(5, outcome="too early to judge")
        [cell] = team_outcomes(data)["classes"]
        assert (cell["trials"], cell["judged_trials"], cell["response_rate"]) == (10, 5, 100.0)
