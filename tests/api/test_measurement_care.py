"""Measurement-based-care prompts on the plan and the team dashboard: a PHQ-9 due 30 days
after the last one on an antidepressant, and "consider a change" when the score has not
moved after weeks at an adequate dose; dated, resolvable, never duplicated."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient
from tests.api.test_trials import days_ago, phq9, start

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def open_of(api: ApiClient, pid: str, kind: str) -> list[dict[str, Any]]:
    alerts = api.get(f"/api/v1/patients/{pid}/plan").get_json()["alerts"]
    return [a for a in alerts if a["kind"] == kind]


def reasons(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    api.catch_up()
    board = api.get("/api/v1/dashboard").get_json()
    [row] = [p for p in board["patients"] if p["patient_id"] == pid]
    found: list[dict[str, Any]] = row["reasons"]
    return found


class TestReassessmentDue:
    def test_an_antidepressant_brings_one_dated_phq9_item_on_the_plan(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 18, at=3)
        start(api, patient, "sertraline", 50, at=1)
        [item] = open_of(api, patient, "reassessment_due")
        assert item["due_at"][:10] == days_ago(3 - 30)[:10]

    def test_a_new_phq9_closes_it_and_dates_the_next_never_two_at_once(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 18, at=40)
        start(api, patient, "sertraline", 50, at=38)
        [overdue] = open_of(api, patient, "reassessment_due")
        assert overdue["due_at"][:10] == days_ago(10)[:10]

        phq9(api, patient, 12, at=0)

        [current] = open_of(api, patient, "reassessment_due")
        assert current["id"] != overdue["id"]
        assert current["due_at"][:10] == days_ago(-30)[:10]

    def test_an_overdue_item_ranks_on_the_dashboard_with_its_date(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 18, at=45)
        start(api, patient, "sertraline", 50, at=44)
        [reason] = [r for r in reasons(api, patient) if "reassessment" in r["message"]]
        assert reason["severity"] == "major"  # late
        assert reason["at"][:10] == days_ago(15)[:10]

    def test_a_clinician_may_resolve_it(self, api: ApiClient, patient: str) -> None:
        start(api, patient, "sertraline", 50, at=1)
        [item] = open_of(api, patient, "reassessment_due")
        done = api.post(
            f"/api/v1/patients/{patient}/alerts/{item['id']}/resolution",
            {"resolution": "acknowledged", "reason": "PHQ-9 booked for Monday"},
        )
        assert done.status_code in (200, 201), done.get_json()
        assert open_of(api, patient, "reassessment_due") == []


class TestConsiderAChange:
    def test_minimal_improvement_at_an_adequate_dose_after_5_weeks_prompts_a_change(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 20, at=40)
        order = start(api, patient, "sertraline", 50, at=38)
        phq9(api, patient, 18, at=0)

        [item] = open_of(api, patient, "consider_change")

        assert item["order_ids"] == [order]
        assert "consider a change" in item["message"]
        assert "10 % fall" in item["message"]
        assert any("consider a change" in r["message"] for r in reasons(api, patient))

    def test_an_improving_score_closes_the_prompt(self, api: ApiClient, patient: str) -> None:
        phq9(api, patient, 20, at=40)
        start(api, patient, "sertraline", 50, at=38)
        phq9(api, patient, 18, at=1)
        assert len(open_of(api, patient, "consider_change")) == 1
        phq9(api, patient, 9, at=0)
        assert open_of(api, patient, "consider_change") == []

    def test_too_early_there_is_no_prompt(self, api: ApiClient, patient: str) -> None:
        phq9(api, patient, 20, at=20)
        start(api, patient, "sertraline", 50, at=18)
        phq9(api, patient, 19, at=0)
        assert open_of(api, patient, "consider_change") == []
