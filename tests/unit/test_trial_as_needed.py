"""An as-needed (PRN) dose in a medication trial: its daily figure is the most that may be
taken, not what was taken, so it never makes an antidepressant trial adequate by itself."""

from __future__ import annotations

from domain.trial_outcomes import judge, treatment_history
from domain.trial_storage import trial_as_dict, trial_from_dict
from domain.trials import trials
from tests.unit.test_trial_outcomes import at, order, plan

PRN = "up to twice daily as needed"


class TestAnAsNeededCourse:
    def test_its_maximum_is_kept_and_said_to_be_as_needed_but_not_counted_as_adequate(
        self,
    ) -> None:
        # Trazodone 75 mg up to twice daily: up to 150 mg/day, its minimum adequate dose.
        state = plan(order("t", "trazodone", [(0, 75, PRN)]), scores=[(-1, 20), (60, 18)])
        [trial] = trials(state)
        row = judge(trial, at(70))
        assert row["highest_mg_per_day"] == 150  # the numbers stay as they were
        assert row["as_needed"] is True
        assert row["highest_regular_mg_per_day"] is None
        assert [s["as_needed"] for s in row["dose_steps"]] == [True]
        assert row["days_at_adequate_dose"] is None
        assert row["adequate"] is None

    def test_it_does_not_count_toward_treatment_resistance(self) -> None:
        state = plan(
            order("s", "sertraline", [(0, 100, "once daily")], stop=60),
            order("t", "trazodone", [(61, 75, PRN)]),
            scores=[(-1, 20), (50, 18), (120, 18)],
        )
        history = treatment_history(state, at(130))
        by_drug = {t["drug"]: t for t in history["trials"]}
        assert by_drug["sertraline"]["adequate"] is True
        assert by_drug["sertraline"]["outcome"] == "minimal improvement"
        assert history["resistance"]["adequate_failed_trials"] == 1
        assert history["resistance"]["treatment_resistant"] is False

    def test_a_maximum_below_the_adequate_dose_still_shows_the_dose_was_never_adequate(
        self,
    ) -> None:
        state = plan(order("t", "trazodone", [(0, 25, PRN)], stop=50), scores=[(-1, 20), (45, 19)])
        [trial] = trials(state)
        assert judge(trial, at(70))["outcome"] == "inadequate dose"

    def test_a_stored_trial_reads_back_as_needed(self) -> None:
        [trial] = trials(plan(order("t", "trazodone", [(0, 75, PRN)]), scores=[]))
        assert trial_from_dict(trial_as_dict(trial)).as_needed is True


class TestARegularCourseWithAnAsNeededStep:
    def test_six_weeks_at_a_regular_adequate_dose_is_adequate(self) -> None:
        steps = [(0, 150, "once daily"), (50, 75, PRN)]
        [trial] = trials(plan(order("t", "trazodone", steps), scores=[]))
        row = judge(trial, at(70))
        assert (row["as_needed"], row["adequate"]) == (False, True)
        assert row["days_at_adequate_dose"] == 50
        assert row["highest_regular_mg_per_day"] == 150

    def test_regular_doses_below_it_and_an_as_needed_maximum_above_it_are_unknown(
        self,
    ) -> None:
        steps = [(0, 50, "once daily"), (10, 75, PRN)]
        [trial] = trials(plan(order("t", "trazodone", steps), scores=[]))
        row = judge(trial, at(70))
        assert row["days_at_adequate_dose"] == 0
        assert row["adequate"] is None  # what was taken as needed is not recorded
        assert row["highest_mg_per_day"] == 150
        assert row["highest_regular_mg_per_day"] == 50

    def test_regular_and_as_needed_doses_both_below_it_are_not_adequate(self) -> None:
        steps = [(0, 50, "once daily"), (10, 25, PRN)]
        [trial] = trials(plan(order("t", "trazodone", steps), scores=[]))
        assert judge(trial, at(70))["adequate"] is False
