"""The rules read the whole patient, over HTTP: a prescription against the problem list,
pregnancy, sex and age (refused when contraindicated unless a prescriber overrides), a
condition or pregnancy recorded against the drugs already taken (alerted, never refused),
and alerts closed by CareLog when the condition is resolved or the pregnancy is over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def born(years: int) -> str:
    """A birth date giving ``years`` completed years today (born on 1 January)."""
    return date(datetime.now(UTC).year - years, 1, 1).isoformat()


def new_patient(
    api: ApiClient, mrn: str, *, age: int = 40, sex: str | None = None, **extra: Any
) -> str:
    body: dict[str, Any] = {"external_id": mrn, "name": "Cond Patient", "birth_date": born(age)}
    if sex is not None:
        body["sex_at_birth"] = sex
    response = api.post("/api/v1/patients", {**body, **extra})
    assert response.status_code == 201, response.get_json()
    pid: str = response.get_json()["patient_id"]
    return pid


def record_condition(api: ApiClient, pid: str, code: str, display: str) -> Any:
    response = api.post(path(pid, "conditions"), {"code": code, "display": display})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pregnancy(api: ApiClient, pid: str, status: str) -> Any:
    response = api.post(path(pid, "pregnancy-status"), {"status": status})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def rules(alerts: list[dict[str, Any]]) -> set[str]:
    return {a["rule_id"] for a in alerts}


def open_alerts(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    alerts: list[dict[str, Any]] = response.get_json()["alerts"]
    return alerts


class TestBupropionWithASeizureOrEatingDisorder:
    def test_with_bulimia_on_record_the_prescription_is_refused_naming_the_rule(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-C1")
        record_condition(api, pid, "F50.2", "Bulimia nervosa")

        response = prescribe(api, pid, "bupropion", 150)

        assert response.status_code == 422
        body = response.get_json()
        assert "override_reason" in body["errors"]
        [alert] = body["alerts"]
        assert alert["rule_id"] == "COND-BUPROPION-EATING"
        assert alert["severity"] == "contraindicated"
        assert "Bulimia nervosa (F50.2)" in alert["message"]
        assert api.get(path(pid, "plan")).get_json()["medications"] == []

    def test_with_epilepsy_on_record_it_is_refused_and_a_prescriber_may_override(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-C2")
        record_condition(api, pid, "G40.909", "Epilepsy")
        assert prescribe(api, pid, "Wellbutrin XL", 150).status_code == 422

        reason = "Neurologist agrees; seizure-free 10 years, on levetiracetam"
        response = prescribe(api, pid, "Wellbutrin XL", 150, override_reason=reason)

        assert response.status_code == 201, response.get_json()
        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "condition"]
        assert alert["rule_id"] == "COND-BUPROPION-SEIZURE"
        [shown] = [a for a in open_alerts(api, pid) if a["id"] == alert["id"]]
        assert shown["override_reason"] == reason

    def test_a_seizure_disorder_recorded_as_a_fact_is_refused_too(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-C3")
        fact = api.post(path(pid, "facts"), {"fact": "seizure_disorder", "value": "yes"})
        assert fact.status_code == 201
        response = prescribe(api, pid, "bupropion", 150)
        assert response.status_code == 422
        assert rules(response.get_json()["alerts"]) == {"COND-BUPROPION-SEIZURE"}

    def test_epilepsy_recorded_after_the_start_is_alerted_not_refused(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-C4")
        assert prescribe(api, pid, "bupropion", 150).status_code == 201

        body = record_condition(api, pid, "G40.909", "Epilepsy")

        [alert] = body["alerts"]
        assert alert["rule_id"] == "COND-BUPROPION-SEIZURE"
        assert alert["blocking"] is False
        assert "recorded, not refused" in alert["message"]
        assert alert["id"] in {a["id"] for a in open_alerts(api, pid)}

    def test_bulimia_diagnosed_in_an_assessment_alerts_against_bupropion(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-C5")
        prescribe(api, pid, "bupropion", 150)

        response = api.post(
            path(pid, "assessments"), {"instrument": "clinical", "diagnoses": ["F50.2"]}
        )

        assert response.status_code == 201, response.get_json()
        assert "COND-BUPROPION-EATING" in rules(response.get_json()["alerts"])


class TestAResolvedConditionNoLongerAlerts:
    def test_resolving_closes_the_open_alert_and_the_next_prescription_passes(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-C6")
        prescribe(api, pid, "bupropion", 150)
        cid = record_condition(api, pid, "F50.2", "Bulimia nervosa")["condition_id"]
        assert "COND-BUPROPION-EATING" in rules(open_alerts(api, pid))

        resolved = api.post(
            path(pid, f"conditions/{cid}/resolution"), {"reason": "Entered in error"}
        )
        assert resolved.status_code == 201, resolved.get_json()
        assert "COND-BUPROPION-EATING" not in rules(open_alerts(api, pid))

        order = api.get(path(pid, "plan")).get_json()["medications"][0]["order_id"]
        api.post(path(pid, f"medications/{order}/discontinuation"), {"reason": "switch"})
        again = prescribe(api, pid, "bupropion", 150)
        assert again.status_code == 201, again.get_json()
        assert not [a for a in again.get_json()["alerts"] if a["kind"] == "condition"]

    def test_a_diagnosis_resolved_and_made_again_alerts_again(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-C7")
        prescribe(api, pid, "bupropion", 150)
        assess = {"instrument": "clinical", "diagnoses": ["F50.2"]}
        first = api.post(path(pid, "assessments"), assess).get_json()["alerts"]
        assert "COND-BUPROPION-EATING" in rules(first)
        api.post(path(pid, "conditions/dx:F50.2/resolution"), {"reason": "recovered"})
        assert "COND-BUPROPION-EATING" not in rules(open_alerts(api, pid))

        again = api.post(path(pid, "assessments"), assess).get_json()["alerts"]

        assert "COND-BUPROPION-EATING" in rules(again)
        assert "COND-BUPROPION-EATING" in rules(open_alerts(api, pid))


class TestPregnancyAndChildbearingPotential:
    def test_valproate_in_a_woman_of_30_warns_of_pregnancy_prevention(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-P1", age=30, sex="female")
        response = prescribe(api, pid, "valproate", 500, frequency="twice daily")
        assert response.status_code == 201, response.get_json()
        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "pregnancy"]
        assert alert["rule_id"] == "COND-VALPROATE-CHILDBEARING"
        assert "pregnancy prevention" in alert["message"]

    def test_valproate_in_a_man_of_30_does_not(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-P2", age=30, sex="male")
        response = prescribe(api, pid, "valproate", 500)
        assert "COND-VALPROATE-CHILDBEARING" not in rules(response.get_json()["alerts"])

    def test_valproate_in_pregnancy_is_refused(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-P3", age=30, sex="female")
        pregnancy(api, pid, "pregnant")
        response = prescribe(api, pid, "valproate", 500)
        assert response.status_code == 422
        assert rules(response.get_json()["alerts"]) == {"COND-PREGNANCY-VALPROATE"}

    def test_lithium_in_pregnancy_alerts_and_the_end_of_the_pregnancy_closes_it(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-P4", age=32, sex="female")
        prescribe(api, pid, "lithium carbonate", 300, frequency="twice daily")

        body = pregnancy(api, pid, "pregnant")
        assert "COND-PREGNANCY-LITHIUM" in rules(body["alerts"])
        assert "COND-PREGNANCY-LITHIUM" in rules(open_alerts(api, pid))

        pregnancy(api, pid, "postpartum")
        assert "COND-PREGNANCY-LITHIUM" not in rules(open_alerts(api, pid))

    def test_a_pregnancy_recorded_again_keeps_its_alert_and_a_new_one_raises_it_anew(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-P6", age=32, sex="female")
        prescribe(api, pid, "paroxetine", 20)
        [first] = [
            a
            for a in pregnancy(api, pid, "pregnant")["alerts"]
            if a["rule_id"] == "COND-PREGNANCY-PAROXETINE"
        ]

        again = pregnancy(api, pid, "pregnant")  # the same pregnancy, recorded again

        assert "COND-PREGNANCY-PAROXETINE" not in rules(again["alerts"])
        assert first["id"] in {a["id"] for a in open_alerts(api, pid)}

        pregnancy(api, pid, "not_pregnant")
        assert first["id"] not in {a["id"] for a in open_alerts(api, pid)}
        assert "COND-PREGNANCY-PAROXETINE" in rules(pregnancy(api, pid, "pregnant")["alerts"])

    def test_lithium_while_breastfeeding_alerts(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-P5", age=32, sex="female")
        pregnancy(api, pid, "lactating")
        response = prescribe(api, pid, "lithium", 300)
        assert "COND-LACTATION-LITHIUM-CLOZAPINE" in rules(response.get_json()["alerts"])


class TestConditionsOfHeartAndMind:
    def test_quetiapine_in_dementia_carries_the_mortality_warning(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-D1", age=78)
        record_condition(api, pid, "F03.90", "Unspecified dementia")
        response = prescribe(api, pid, "quetiapine", 25, frequency="at night")
        assert response.status_code == 201, response.get_json()
        [alert] = [
            a
            for a in response.get_json()["alerts"]
            if a["rule_id"] == "COND-DEMENTIA-ANTIPSYCHOTIC"
        ]
        assert alert["severity"] == "major"
        assert "increased risk of death" in alert["message"]

    def test_citalopram_with_long_qt_alerts(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-Q1")
        record_condition(api, pid, "I45.81", "Long QT syndrome")
        response = prescribe(api, pid, "citalopram", 20)
        assert "COND-QT-CITALOPRAM" in rules(response.get_json()["alerts"])

    def test_coded_cirrhosis_caps_escitalopram_at_10_mg(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-H1")
        record_condition(api, pid, "K74.60", "Cirrhosis of liver")
        response = prescribe(api, pid, "escitalopram", 20)
        [alert] = [a for a in response.get_json()["alerts"] if a["rule_id"] == "MAX-ESCITALOPRAM"]
        assert "hepatic impairment" in alert["message"]


class TestAgeWarnings:
    def test_sertraline_at_19_carries_the_under_25_suicidality_warning(
        self, api: ApiClient
    ) -> None:
        pid = new_patient(api, "MRN-A1", age=19)
        response = prescribe(api, pid, "sertraline", 50)
        assert response.status_code == 201, response.get_json()
        [alert] = [
            a
            for a in response.get_json()["alerts"]
            if a["rule_id"] == "AGE-ANTIDEPRESSANT-UNDER-25"
        ]
        assert "19-year-old" in alert["message"]

    def test_sertraline_at_40_does_not(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-A2", age=40)
        response = prescribe(api, pid, "sertraline", 50)
        assert "AGE-ANTIDEPRESSANT-UNDER-25" not in rules(response.get_json()["alerts"])

    def test_lorazepam_at_70_meets_the_beers_criteria(self, api: ApiClient) -> None:
        pid = new_patient(api, "MRN-A3", age=70)
        response = prescribe(api, pid, "lorazepam", 1)
        assert response.status_code == 201, response.get_json()
        assert "AGE-BEERS-BENZODIAZEPINE" in rules(response.get_json()["alerts"])
