"""Lab values judged over HTTP: a result written to ``/labs`` is judged by tier against the
patient's active drugs, its alert is in the write's answer and in the plan, a result back
in range closes it, and a result recorded before the drug is judged when it is prescribed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def record_lab(
    api: ApiClient, pid: str, test: str, value: float | None, unit: str | None = None
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"test": test, "value": value}
    if unit is not None:
        body["unit"] = unit
    response = api.post(path(pid, "labs"), body)
    assert response.status_code == 201, response.get_json()
    alerts: list[dict[str, Any]] = response.get_json()["alerts"]
    return alerts


def record_fact(api: ApiClient, pid: str, fact: str, value: str) -> Any:
    response = api.post(path(pid, "facts"), {"fact": fact, "value": value})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def plan_alerts(api: ApiClient, pid: str, prefix: str = "LAB-") -> list[dict[str, Any]]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    return [a for a in response.get_json()["alerts"] if a["rule_id"].startswith(prefix)]


def lab_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule_id"].startswith("LAB-")]


def correct_value(api: ApiClient, pid: str, written: Any, value: float, reason: str) -> Any:
    """A correction of the value of the lab result a write (its response) recorded."""
    body = {"event_id": written.get_json()["event_id"], "fields": {"value": value}}
    return api.post(path(pid, "corrections"), {**body, "reason": reason})


def on(api: ApiClient, pid: str, drug: str, amount: float = 100) -> None:
    response = prescribe(api, pid, drug, amount)
    assert response.status_code == 201, response.get_json()


class TestClozapineAnc:
    @pytest.mark.parametrize(("value", "unit"), [(800, "/µL"), (0.8, "x10^9/L")])
    def test_an_anc_of_800_interrupts_clozapine_in_the_answer_and_the_plan(
        self, api: ApiClient, patient: str, value: float, unit: str
    ) -> None:
        on(api, patient, "clozapine", 12.5)

        [alert] = lab_alerts(record_lab(api, patient, "ANC", value, unit))

        assert (alert["rule_id"], alert["severity"]) == ("LAB-CLOZAPINE-ANC", "contraindicated")
        assert "Interrupt clozapine" in alert["message"]
        assert "ANC daily" in alert["action"]
        assert [a["id"] for a in plan_alerts(api, patient)] == [alert["id"]]

    def test_an_anc_of_800_does_not_close_the_anc_monitoring_item(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "clozapine", 12.5)
        before = plan_alerts(api, patient, "MON-CLOZAPINE-ANC")
        assert len(before) == 1

        record_lab(api, patient, "ANC", 800, "cells/µL")

        assert plan_alerts(api, patient, "MON-CLOZAPINE-ANC") == before

    def test_a_normal_anc_afterwards_closes_the_interrupt_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "clozapine", 12.5)
        record_lab(api, patient, "ANC", 800, "/µL")

        assert lab_alerts(record_lab(api, patient, "ANC", 2100, "/µL")) == []

        assert plan_alerts(api, patient) == []

    def test_an_anc_of_1200_with_benign_ethnic_neutropenia_is_normal(
        self, api: ApiClient, patient: str
    ) -> None:
        record_fact(api, patient, "Benign ethnic neutropenia", "Yes")
        on(api, patient, "clozapine", 12.5)

        assert lab_alerts(record_lab(api, patient, "ANC", 1200, "/µL")) == []

    def test_an_unknown_value_of_the_ben_fact_is_refused_naming_the_allowed_values(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            path(patient, "facts"), {"fact": "benign_ethnic_neutropenia", "value": "maybe"}
        )
        assert response.status_code == 422
        assert "yes, no" in str(response.get_json())

    def test_a_low_anc_before_the_start_refuses_the_prescription_unless_overridden(
        self, api: ApiClient, patient: str
    ) -> None:
        assert lab_alerts(record_lab(api, patient, "ANC", 1200, "/µL")) == []

        refused = prescribe(api, patient, "clozapine", 12.5)
        assert refused.status_code == 422
        assert [a["rule_id"] for a in refused.get_json()["alerts"]] == [
            "LAB-CLOZAPINE-ANC-BASELINE"
        ]
        allowed = prescribe(
            api, patient, "clozapine", 12.5, override_reason="Haematology advised a start"
        )
        assert allowed.status_code == 201, allowed.get_json()

    def test_an_anc_in_an_unreadable_unit_is_reported_not_ignored(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "clozapine", 12.5)

        [alert] = lab_alerts(record_lab(api, patient, "ANC", 800, "per cent"))

        assert "cannot be judged" in alert["message"]
        assert "'per cent'" in alert["message"]


class TestCorrection:
    def test_a_corrected_anc_back_in_range_closes_the_interrupt_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "clozapine", 12.5)
        response = api.post(path(patient, "labs"), {"test": "ANC", "value": 800, "unit": "/µL"})
        assert response.status_code == 201, response.get_json()
        assert len(plan_alerts(api, patient)) == 1

        reason = "Transcription error: the laboratory reported 2100/µL"
        corrected = correct_value(api, patient, response, 2100, reason)

        assert corrected.status_code == 201, corrected.get_json()
        assert plan_alerts(api, patient) == []

    def test_a_result_corrected_to_a_worse_tier_raises_the_new_tier(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "lithium", 400)
        response = api.post(path(patient, "labs"), {"test": "lithium", "value": 1.3})
        assert response.status_code == 201, response.get_json()

        corrected = correct_value(api, patient, response, 2.3, "The laboratory amended the result")

        assert corrected.status_code == 201, corrected.get_json()
        [alert] = lab_alerts(corrected.get_json()["alerts"])
        assert alert["severity"] == "urgent"
        assert [a["id"] for a in plan_alerts(api, patient)] == [alert["id"]]


class TestLevelsAndChemistry:
    def test_lithium_2_6_is_urgent_while_1_6_is_major(self, api: ApiClient, patient: str) -> None:
        on(api, patient, "lithium", 400)

        [moderate] = lab_alerts(record_lab(api, patient, "lithium level", 1.6, "mmol/L"))
        [severe] = lab_alerts(record_lab(api, patient, "lithium level", 2.6, "mEq/L"))

        assert moderate["severity"] == "major"
        assert severe["severity"] == "urgent"
        assert [a["id"] for a in plan_alerts(api, patient)] == [severe["id"]]

    @pytest.mark.parametrize(
        ("drug", "test", "value", "unit", "rule_id", "severity"),
        [
            ("carbamazepine", "sodium", 124, "mmol/L", "LAB-SODIUM-LOW", "urgent"),
            ("lithium", "eGFR", 25, "mL/min/1.73m²", "LAB-LITHIUM-EGFR", "major"),
            ("valproate", "valproate level", 180, "µg/mL", "LAB-VALPROATE-LEVEL-HIGH", "major"),
            ("valproate", "ALT", 160, "U/L", "LAB-VALPROATE-ALT", "major"),
            ("valproate", "platelets", 40, "10^9/L", "LAB-VALPROATE-PLATELETS", "major"),
            ("citalopram", "QTc", 520, "ms", "LAB-QTC-ON-QT-DRUG", "major"),
        ],
    )
    def test_a_value_out_of_range_on_the_drug_raises_its_tier(
        self, api: ApiClient, patient: str, drug: str, test: str, value: float, unit: str,
        rule_id: str, severity: str,
    ) -> None:  # fmt: skip
        on(api, patient, drug, 20 if drug == "citalopram" else 200)

        [alert] = lab_alerts(record_lab(api, patient, test, value, unit))

        assert (alert["rule_id"], alert["severity"]) == (rule_id, severity)
        assert str(value) in alert["message"]
        assert [a["id"] for a in plan_alerts(api, patient)] == [alert["id"]]


class TestHlaB1502:
    def test_a_positive_result_then_carbamazepine_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        record_lab(api, patient, "HLA-B*15:02", None, "positive")

        response = prescribe(api, patient, "carbamazepine", 200)

        assert response.status_code == 422
        [alert] = response.get_json()["alerts"]
        assert (alert["rule_id"], alert["severity"]) == (
            "LAB-HLA-B1502-CARBAMAZEPINE",
            "contraindicated",
        )

    def test_a_positive_fact_then_carbamazepine_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        record_fact(api, patient, "hla_b_1502", "Positive")

        response = prescribe(api, patient, "Tegretol", 200)

        assert response.status_code == 422
        assert [a["rule_id"] for a in response.get_json()["alerts"]] == [
            "FACT-HLA-B1502-CARBAMAZEPINE"
        ]

    def test_a_positive_result_on_carbamazepine_is_recorded_and_alerted_not_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        on(api, patient, "carbamazepine", 200)

        [alert] = lab_alerts(record_lab(api, patient, "hla b 1502", 1, None))

        assert alert["severity"] == "contraindicated"
        assert plan_alerts(api, patient)[0]["id"] == alert["id"]
