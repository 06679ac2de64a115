"""Side effects read against the suspect drug over HTTP: a report written to
``/side-effects`` raises its rule's alert in the write's answer and in the plan, with the
action; the report is never refused, and a later write does not repeat the alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def started(api: ApiClient, pid: str, drug: str, amount: float, days_ago: int = 7) -> str:
    when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    response = prescribe(api, pid, drug, amount, effective_at=when)
    assert response.status_code == 201, response.get_json()
    order_id: str = response.get_json()["order_id"]
    return order_id


def report(api: ApiClient, pid: str, effect: str, severity: str = "moderate", **extra: Any) -> Any:
    response = api.post(
        path(pid, "side-effects"), {"effect": effect, "severity": severity, **extra},
        as_="pharmacist",
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def side_effect_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["kind"] == "side_effect"]


def in_plan(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    return side_effect_alerts(response.get_json()["alerts"])


class TestSideEffectAlerts:
    @pytest.mark.parametrize(
        ("drug", "amount", "days_ago", "effect", "severity", "rule_id", "expected"),
        [
            ("lamotrigine", 25, 14, "Severe rash with fever", "severe",
             "SE-LAMOTRIGINE-RASH", "urgent"),
            ("clozapine", 100, 30, "constipated for 4 days", "moderate",
             "SE-CLOZAPINE-CONSTIPATION", "major"),
            ("haloperidol", 5, 10, "fever and muscle rigidity", "severe",
             "SE-ANTIPSYCHOTIC-NMS", "urgent"),
            ("clozapine", 100, 21, "chest pain", "moderate",
             "SE-CLOZAPINE-MYOCARDITIS", "urgent"),
            ("trazodone", 50, 5, "priapism", "severe", "SE-TRAZODONE-PRIAPISM", "urgent"),
        ],
    )  # fmt: skip
    def test_the_report_raises_the_rule_with_its_action_in_the_answer_and_the_plan(
        self, api: ApiClient, patient: str, drug: str, amount: float, days_ago: int,
        effect: str, severity: str, rule_id: str, expected: str,
    ) -> None:  # fmt: skip
        order_id = started(api, patient, drug, amount, days_ago)

        body = report(api, patient, effect, severity)

        found = [a for a in side_effect_alerts(body["alerts"]) if a["rule_id"] == rule_id]
        assert [(a["severity"], a["order_ids"]) for a in found] == [(expected, [order_id])]
        assert found[0]["action"]
        assert found[0]["id"] in [a["id"] for a in in_plan(api, patient)]

    def test_chest_pain_a_year_into_clozapine_is_not_read_as_myocarditis(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "clozapine", 100, days_ago=365)

        body = report(api, patient, "chest pain")

        assert "SE-CLOZAPINE-MYOCARDITIS" not in [a["rule_id"] for a in body["alerts"]]

    def test_the_named_order_is_the_suspect(self, api: ApiClient, patient: str) -> None:
        started(api, patient, "lamotrigine", 25)
        sertraline = started(api, patient, "sertraline", 50)

        body = report(api, patient, "rash", order_id=sertraline)

        assert side_effect_alerts(body["alerts"]) == []

    def test_suicidal_thoughts_reported_by_a_therapist_are_a_suicide_risk_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "escitalopram", 10)

        response = api.post(
            path(patient, "side-effects"),
            {"effect": "New suicidal thoughts since starting", "severity": "severe"},
            as_="therapist",
        )

        assert response.status_code == 201, response.get_json()
        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "suicide_risk"]
        assert (alert["rule_id"], alert["severity"]) == ("SE-ANTIDEPRESSANT-SUICIDALITY", "urgent")
        plan = api.get(path(patient, "plan")).get_json()
        assert alert["id"] in [a["id"] for a in plan["alerts"]]

    def test_the_alert_stays_open_after_later_writes(self, api: ApiClient, patient: str) -> None:
        started(api, patient, "trazodone", 50)
        [alert] = side_effect_alerts(report(api, patient, "prolonged erection", "severe")["alerts"])

        response = api.post(path(patient, "labs"), {"test": "weight", "value": 80, "unit": "kg"})
        assert response.status_code == 201, response.get_json()

        assert [a["id"] for a in in_plan(api, patient)] == [alert["id"]]
