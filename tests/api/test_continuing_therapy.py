"""Continuing therapy over HTTP: a transfer in, stable on clozapine for three years, is
not a new start (no start-dose or titration alert, no baseline "due" years ago, the
monthly ANC of the second year on); and the monitoring a prescription raises comes as one
alert listing its checks and their schedule, not one alert per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

TRANSFER = {"since": "2023-11-01", "source": "transfer from St Elsewhere hospital"}


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def of_kind(alerts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["kind"] == kind]


def plan(api: ApiClient, pid: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(path(pid, "plan")).get_json()
    return body


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class TestATransferOnClozapine:
    def test_no_start_dose_or_titration_alert(self, api: ApiClient, patient: str) -> None:
        response = prescribe(api, patient, "clozapine", 200, continuing=TRANSFER)

        assert response.status_code == 201, response.get_json()
        assert of_kind(response.get_json()["alerts"], "titration") == []

    def test_the_same_dose_as_a_new_start_is_flagged(self, api: ApiClient, patient: str) -> None:
        response = prescribe(api, patient, "clozapine", 200)
        assert of_kind(response.get_json()["alerts"], "titration")

    def test_one_monitoring_alert_with_the_monthly_anc_and_no_baseline_years_ago(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "clozapine", 200, continuing=TRANSFER)

        [alert] = of_kind(response.get_json()["alerts"], "monitoring_due")
        message = alert["message"]
        assert "continuing since 2023-11-01" in message
        assert "baseline" not in message.lower()
        assert "2023-11-01" not in alert["due_at"]
        assert alert["due_at"].startswith(today())
        assert "monthly after 12 months" in message
        assert "weekly in the first 6 months" not in message

    def test_the_plan_shows_the_order_continues_established_therapy(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "clozapine", 200, continuing=TRANSFER)
        [medication] = plan(api, patient)["medications"]
        assert medication["continuing"] == TRANSFER

    def test_an_anc_recorded_after_the_transfer_moves_the_next_to_a_month_later(
        self, api: ApiClient, patient: str
    ) -> None:
        written = prescribe(api, patient, "clozapine", 200, continuing=TRANSFER).get_json()
        [first] = of_kind(written["alerts"], "monitoring_due")

        lab = api.post(path(patient, "labs"), {"test": "anc", "value": 3.1, "unit": "10^9/L"})
        assert lab.status_code == 201, lab.get_json()

        [current] = of_kind(plan(api, patient)["alerts"], "monitoring_due")
        assert current["id"] != first["id"]
        in_a_month = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
        assert f"Absolute neutrophil count (ANC) due by {in_a_month}" in current["message"]


class TestContinuingLamotrigine:
    def test_a_stable_dose_from_elsewhere_is_not_judged_against_week_one(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "lamotrigine", 200, continuing=TRANSFER)
        assert of_kind(response.get_json()["alerts"], "titration") == []
        assert of_kind(
            prescribe(api, patient, "lamotrigine", 200).get_json()["alerts"], "titration"
        )


class TestContinuingIsChecked:
    def test_a_since_after_the_order_is_refused_naming_the_field(
        self, api: ApiClient, patient: str
    ) -> None:
        later = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
        response = prescribe(
            api, patient, "clozapine", 200, continuing={"since": later, "source": "GP"}
        )
        problem_naming(response, 422, "continuing.since")

    def test_a_since_that_is_not_a_date_is_refused(self, api: ApiClient, patient: str) -> None:
        response = prescribe(
            api, patient, "clozapine", 200, continuing={"since": "last year", "source": "GP"}
        )
        assert response.status_code in (400, 422)
        assert "continuing.since" in response.get_json()["errors"]

    def test_an_order_without_it_is_a_new_start(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient, "sertraline", 50)
        [medication] = plan(api, patient)["medications"]
        assert medication["continuing"] is None


class TestOneMonitoringAlertPerPrescription:
    def test_a_new_olanzapine_raises_exactly_one_listing_the_metabolic_checks(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "olanzapine", 10)

        [alert] = of_kind(response.get_json()["alerts"], "monitoring_due")
        message = alert["message"]
        assert message.startswith("Monitoring for olanzapine (started ")
        for check in ("Weight", "aist circumference", "lood pressure", "glucose", "lipids"):
            assert check in message
        assert "then" in message
        assert len(of_kind(plan(api, patient)["alerts"], "monitoring_due")) == 1

    def test_a_weight_recorded_supersedes_it_with_the_next_weight_date(
        self, api: ApiClient, patient: str
    ) -> None:
        written = prescribe(api, patient, "olanzapine", 10).get_json()
        [first] = of_kind(written["alerts"], "monitoring_due")

        api.post(path(patient, "labs"), {"test": "weight", "value": 80, "unit": "kg"})

        [current] = of_kind(plan(api, patient)["alerts"], "monitoring_due")
        assert current["id"] != first["id"]
        assert "Weight (BMI) due by" in current["message"]
        assert "week 4" in current["message"]
        resolved = api.get(
            path(patient, "history"), query_string={"type": "SafetyAlertResolved"}
        ).get_json()["events"]
        assert [e["data"]["superseded_by"] for e in resolved] == [current["id"]]

    def test_two_antipsychotics_give_one_alert_each(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient, "olanzapine", 10)
        prescribe(api, patient, "quetiapine", 100, override_reason="Cross-titration")
        assert len(of_kind(plan(api, patient)["alerts"], "monitoring_due")) == 2
