"""``GET /api/v1/patients/{pid}/trials``: what was tried, at what dose, for how long, and
whether it worked, under both clocks, through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

NOW = datetime.now(UTC)


def days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def items(total: int) -> list[int]:
    """Nine PHQ-9 item scores (0-3) adding up to ``total``."""
    out = []
    for _ in range(9):
        out.append(min(3, total))
        total -= out[-1]
    return out


def phq9(api: ApiClient, pid: str, total: int, at: float) -> dict[str, Any]:
    r = api.post(
        f"/api/v1/patients/{pid}/assessments",
        {"instrument": "PHQ-9", "item_scores": items(total), "effective_at": days_ago(at)},
        as_="therapist",
    )
    assert r.status_code == 201, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def start(api: ApiClient, pid: str, drug: str, amount: float, at: float, **extra: Any) -> str:
    r = prescribe(api, pid, drug, amount, effective_at=days_ago(at), **extra)
    assert r.status_code == 201, r.get_json()
    order_id: str = r.get_json()["order_id"]
    return order_id


def stop(api: ApiClient, pid: str, order_id: str, at: float, reason: str = "no effect") -> None:
    r = api.post(
        f"/api/v1/patients/{pid}/medications/{order_id}/discontinuation",
        {"reason": reason, "taper": "over 2 weeks", "effective_at": days_ago(at)},
    )
    assert r.status_code in (200, 201), r.get_json()


def change(api: ApiClient, pid: str, order_id: str, amount: float, at: float) -> None:
    r = api.post(
        f"/api/v1/patients/{pid}/medications/{order_id}/dose-changes",
        {
            "dose": {"amount": amount, "unit": "mg"},
            "reason": "titration",
            "effective_at": days_ago(at),
        },
    )
    assert r.status_code in (200, 201), r.get_json()


def trials(api: ApiClient, pid: str, as_: str = "psychiatrist", **query: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/patients/{pid}/trials", as_=as_, query_string=query)
    assert r.status_code == 200, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


class Course(NamedTuple):
    """One course between two PHQ-9 totals (``(total, days ago)``), judged alone."""

    baseline: tuple[int, float]
    drug: str
    amount: float
    at: float  # started, days ago
    later: tuple[int, float]
    stop_at: float | None = None

    def record(self, api: ApiClient, pid: str) -> str:
        """Records the course and its scores; the order's id."""
        phq9(api, pid, self.baseline[0], at=self.baseline[1])
        order = start(api, pid, self.drug, self.amount, at=self.at)
        phq9(api, pid, self.later[0], at=self.later[1])
        if self.stop_at is not None:
            stop(api, pid, order, at=self.stop_at)
        return order


class TestATrialThatWorked:
    def test_it_shows_dose_steps_adequacy_baseline_and_response(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 20, at=75)
        order = start(api, patient, "sertraline", 50, at=70)
        change(api, patient, order, 100, at=40)
        phq9(api, patient, 14, at=45)
        phq9(api, patient, 8, at=10)

        [trial] = trials(api, patient)["trials"]

        assert (trial["drug"], trial["drug_class"], trial["active"]) == ("sertraline", "SSRI", True)
        assert [s["mg_per_day"] for s in trial["dose_steps"]] == [50, 100]
        assert trial["highest_mg_per_day"] == 100
        assert trial["min_adequate_mg_per_day"] == 50
        assert 69.9 <= trial["days_at_adequate_dose"] <= 70.1
        assert trial["adequate"] is True
        assert trial["baseline"]["total"] == 20
        assert (trial["best"]["total"], trial["latest"]["total"]) == (8, 8)
        assert trial["percent_change"] == 60.0
        assert trial["outcome"] == "response"
        assert 8.5 <= trial["weeks_to_response"] <= 8.7


class TestNoBaseline:
    def test_a_trial_with_no_score_in_the_30_days_before_says_so_and_is_not_judged(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 20, at=80)  # 40 days before the start: too old to be a baseline
        start(api, patient, "sertraline", 50, at=40)
        phq9(api, patient, 18, at=5)
        [trial] = trials(api, patient)["trials"]
        assert (trial["baseline"], trial["no_baseline"]) == (None, True)
        assert (trial["percent_change"], trial["outcome"]) == (None, "not assessed")


class TestTrialBoundaries:
    def test_a_restart_after_a_gap_is_a_new_trial_listed_newest_first(
        self, api: ApiClient, patient: str
    ) -> None:
        first = start(api, patient, "sertraline", 50, at=100)
        stop(api, patient, first, at=60, reason="nausea")
        second = start(api, patient, "sertraline", 50, at=20)

        listed = trials(api, patient)["trials"]

        assert [t["trial_id"] for t in listed] == [second, first]
        assert listed[1]["stop_reason"] == "nausea"
        assert listed[1]["active"] is False
        assert 39.9 <= listed[1]["duration_days"] <= 40.1

    def test_a_dose_below_the_adequate_dose_never_makes_the_trial_adequate(
        self, api: ApiClient, patient: str
    ) -> None:
        start(api, patient, "sertraline", 25, at=90)
        [trial] = trials(api, patient)["trials"]
        assert (trial["days_at_adequate_dose"], trial["adequate"]) == (0.0, False)

    def test_continuing_therapy_counts_from_its_true_start(
        self, api: ApiClient, patient: str
    ) -> None:
        since = (NOW - timedelta(days=400)).date().isoformat()
        start(
            api,
            patient,
            "venlafaxine",
            150,
            at=1,
            continuing={"since": since, "source": "GP records"},
        )
        [trial] = trials(api, patient)["trials"]
        assert trial["started_at"].startswith(since)
        assert trial["continuing"]["source"] == "GP records"
        assert trial["days_at_adequate_dose"] >= 399
        assert trial["adequate"] is True


OUTCOMES = {  # what one course reads, by the test it was written as
    "a_score_under_5_is_remission": (Course((12, 60), "escitalopram", 10, 56, (3, 5)), "remission"),
    "a_stopped_trial_below_the_minimum_reads_inadequate_dose": (
        Course((20, 30), "sertraline", 25, 28, (19, 15), stop_at=14),
        "inadequate dose",
    ),
    "in_the_first_6_weeks_it_is_still_too_early_to_judge": (
        Course((20, 22), "sertraline", 25, 21, (18, 0)),
        "too early to judge",
    ),
    "a_response_on_a_low_dose_is_still_a_response": (
        Course((20, 58), "sertraline", 25, 56, (8, 0)),
        "response",
    ),
}
NOT_RESISTANCE = {  # adequate failed trials counted, by the test it was written as
    "an_inadequate_dose_trial_is_not_counted_towards_resistance": (
        Course((20, 58), "sertraline", 25, 56, (19, 0)),
        0,
    ),
    "one_failed_trial_is_not_resistance": (Course((20, 100), "fluoxetine", 20, 95, (19, 30)), 1),
}


class TestTheOutcomeOfOneCourse:
    def test_after_6_weeks_below_the_minimum_it_reads_inadequate_dose_not_too_early(
        self, api: ApiClient, patient: str
    ) -> None:
        Course((20, 58), "sertraline", 25, 56, (18, 0)).record(api, patient)

        [trial] = trials(api, patient)["trials"]

        assert trial["outcome"] == "inadequate dose"
        assert (trial["adequate"], trial["min_adequate_mg_per_day"]) == (False, 50.0)
        assert trial["highest_mg_per_day"] == 25.0

    @pytest.mark.parametrize(("course", "outcome"), list(OUTCOMES.values()), ids=list(OUTCOMES))
    def test_the_trial_reads_its_outcome(
        self, api: ApiClient, patient: str, course: Course, outcome: str
    ) -> None:
        course.record(api, patient)

        [trial] = trials(api, patient)["trials"]

        assert trial["outcome"] == outcome

    @pytest.mark.parametrize(
        ("course", "failed"), list(NOT_RESISTANCE.values()), ids=list(NOT_RESISTANCE)
    )
    def test_one_course_is_not_resistance(
        self, api: ApiClient, patient: str, course: Course, failed: int
    ) -> None:
        course.record(api, patient)

        summary = trials(api, patient)["resistance"]

        assert summary["adequate_failed_trials"] == failed
        assert summary["treatment_resistant"] is False


class TestTreatmentResistance:
    def test_two_adequate_trials_without_response_flag_resistance_with_their_ids(
        self, api: ApiClient, patient: str
    ) -> None:
        first = Course((20, 200), "fluoxetine", 20, 190, (19, 130), stop_at=125).record(
            api, patient
        )
        second = start(api, patient, "venlafaxine", 75, at=120)
        phq9(api, patient, 18, at=60)

        body = trials(api, patient)
        resistance = body["resistance"]

        assert {t["trial_id"]: t["outcome"] for t in body["trials"]} == {
            first: "minimal improvement",
            second: "minimal improvement",
        }
        assert resistance["adequate_failed_trials"] == 2
        assert resistance["treatment_resistant"] is True
        assert sorted(resistance["trial_ids"]) == sorted([first, second])

    def test_trials_before_a_relapse_after_remission_belong_to_an_earlier_episode(
        self, api: ApiClient, patient: str
    ) -> None:
        Course((20, 300), "fluoxetine", 20, 295, (19, 230), stop_at=225).record(api, patient)
        phq9(api, patient, 3, at=200)  # remitted (off medication)
        phq9(api, patient, 16, at=130)  # relapse: a new episode
        start(api, patient, "venlafaxine", 75, at=125)
        phq9(api, patient, 15, at=60)
        resistance = trials(api, patient)["resistance"]
        assert resistance["adequate_failed_trials"] == 1
        assert resistance["treatment_resistant"] is False
        assert resistance["episode_started_at"].startswith(days_ago(130)[:10])


class TestBothClocks:
    def test_as_of_shows_what_was_known_then(self, api: ApiClient, patient: str) -> None:
        order = start(api, patient, "sertraline", 50, at=60)
        known = datetime.now(UTC).isoformat()
        change(api, patient, order, 100, at=30)
        then = trials(api, patient, as_of=known)
        assert [s["amount"] for s in then["trials"][0]["dose_steps"]] == [50]
        assert then["as_of"] is not None
        assert [s["amount"] for s in trials(api, patient)["trials"][0]["dose_steps"]] == [50, 100]

    def test_effective_at_shows_the_trials_in_effect_then_judged_then(
        self, api: ApiClient, patient: str
    ) -> None:
        order = start(api, patient, "sertraline", 50, at=60)
        stop(api, patient, order, at=10)
        start(api, patient, "mirtazapine", 15, at=5)

        then = trials(api, patient, effective_at=days_ago(30))

        [trial] = then["trials"]
        assert (trial["drug"], trial["active"]) == ("sertraline", True)
        assert 29.9 <= trial["days_at_adequate_dose"] <= 30.1
        assert trial["adequate"] is False  # 30 days then, under six weeks

    def test_a_late_baseline_changes_the_answer_but_not_what_was_known_before_it(
        self, api: ApiClient, patient: str
    ) -> None:
        start(api, patient, "sertraline", 50, at=60)
        phq9(api, patient, 9, at=5)
        before_late_entry = datetime.now(UTC).isoformat()
        phq9(api, patient, 18, at=65)  # entered late: effective before the start

        assert trials(api, patient)["trials"][0]["baseline"]["total"] == 18
        assert trials(api, patient)["trials"][0]["outcome"] == "response"
        earlier = trials(api, patient, as_of=before_late_entry)["trials"][0]
        assert (earlier["no_baseline"], earlier["outcome"]) == (True, "not assessed")

    def test_a_corrected_start_moves_the_trial_and_its_baseline(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 20, at=50)
        r = prescribe(api, patient, "sertraline", 50, effective_at=days_ago(90))
        event_id = r.get_json()["event_id"]
        assert trials(api, patient)["trials"][0]["no_baseline"] is True  # 40 days before it

        fixed = api.post(
            f"/api/v1/patients/{patient}/corrections",
            {"event_id": event_id, "fields": {"effective_at": days_ago(45)}, "reason": "typo"},
        )
        assert fixed.status_code in (200, 201), fixed.get_json()

        [trial] = trials(api, patient)["trials"]
        assert trial["started_at"][:10] == days_ago(45)[:10]
        assert trial["baseline"]["total"] == 20

    def test_a_late_stop_ends_the_trial_when_it_took_effect(
        self, api: ApiClient, patient: str
    ) -> None:
        order = start(api, patient, "sertraline", 50, at=80)
        stop(api, patient, order, at=50)  # recorded now, effective 50 days ago
        [trial] = trials(api, patient)["trials"]
        assert trial["stopped_at"][:10] == days_ago(50)[:10]
        assert 29.9 <= trial["days_at_adequate_dose"] <= 30.1

    def test_before_registration_is_404(self, api: ApiClient, patient: str) -> None:
        r = api.get(
            f"/api/v1/patients/{patient}/trials", query_string={"as_of": "2000-01-01T00:00:00Z"}
        )
        assert r.status_code == 404


class TestTrialsReadsAreAudited:
    def test_a_read_records_one_entry_and_a_denied_one_too(
        self, api: ApiClient, patient: str
    ) -> None:
        api.get(f"/api/v1/patients/{patient}/trials", headers={"X-Request-ID": "req-trials"})
        denied = api.get(
            f"/api/v1/patients/{patient}/trials",
            as_="outsider",
            headers={"X-Request-ID": "req-trials-denied"},
        )
        assert denied.status_code == 403
        rows = api.carelog.db.query(
            # the client's X-Request-ID is kept beside CareLog's own request id
            "SELECT patient_id, what, allowed FROM access_log"
            " WHERE details LIKE ? OR details LIKE ? ORDER BY allowed DESC",
            ('%"client_request_id": "req-trials"%', '%"client_request_id": "req-trials-denied"%'),
        )
        assert [(r["patient_id"], r["what"], bool(r["allowed"])) for r in rows] == [
            (patient, "trials", True),
            (patient, "trials", False),
        ]

    def test_without_a_token_it_is_401(self, api: ApiClient, patient: str) -> None:
        assert api.get(f"/api/v1/patients/{patient}/trials", as_=None).status_code == 401
