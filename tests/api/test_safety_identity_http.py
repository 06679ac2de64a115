"""Drug identity over HTTP: combination products and "brand (generic)" names reach every
ingredient, so the MAOI and pimozide contraindications hold whatever name the prescriber
typed, and a drug the pack does not know is a major alert beside a dangerous one
(issue 18, item 4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def plan(api: ApiClient, pid: str) -> dict[str, Any]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def refused_rules(response: Any) -> list[str]:
    assert response.status_code == 422, response.get_json()
    return sorted(a["rule_id"] for a in response.get_json()["alerts"])


def in_units(api: ApiClient, pid: str, drug: str, count: float, **extra: Any) -> Any:
    """A combination product ordered as a number of tablets or capsules."""
    body = {
        "drug": drug,
        "dose": {"amount": count, "unit": "units"},
        "frequency": extra.pop("frequency", "once daily"),
        "route": "oral",
        "indication": extra.pop("indication", "bipolar depression"),
        **extra,
    }
    return api.post(path(pid, "medications"), body)


class TestCombinationProductsBesideAnMaoi:
    def test_symbyax_beside_phenelzine_is_refused_for_its_fluoxetine(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "phenelzine", 15).status_code == 201

        response = in_units(api, patient, "Symbyax 6/25", 1)

        assert refused_rules(response) == ["DDI-01A"]
        [alert] = response.get_json()["alerts"]
        assert alert["severity"] == "contraindicated"
        assert "Symbyax 6/25 (fluoxetine)" in alert["message"]
        assert [m["drug"] for m in plan(api, patient)["medications"]] == ["phenelzine"]

    def test_generic_spellings_of_olanzapine_and_fluoxetine_are_refused_too(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "phenelzine", 15).status_code == 201

        for typed in (
            "olanzapine/fluoxetine",
            "olanzapine-fluoxetine",
            "olanzapine and fluoxetine",
        ):
            assert refused_rules(prescribe(api, patient, typed, 6)) == ["DDI-01A"], typed

    def test_nuedexta_beside_an_maoi_is_refused_for_its_dextromethorphan(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "tranylcypromine", 10).status_code == 201

        response = in_units(api, patient, "Nuedexta", 1, indication="pseudobulbar affect")

        assert refused_rules(response) == ["DDI-01F"]
        assert "Nuedexta (dextromethorphan)" in response.get_json()["alerts"][0]["message"]

    def test_dextromethorphan_itself_beside_an_maoi_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "phenelzine", 15).status_code == 201

        response = prescribe(api, patient, "dextromethorphan", 30, indication="cough")

        assert refused_rules(response) == ["DDI-01F"]

    def test_auvelity_beside_an_maoi_is_refused_for_both_ingredients(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "phenelzine", 15).status_code == 201

        response = in_units(api, patient, "Auvelity", 1, indication="depression")

        assert refused_rules(response) == ["DDI-01F", "DDI-29"]


class TestBrandWithGenericInBrackets:
    def test_zoloft_sertraline_beside_phenelzine_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "phenelzine", 15).status_code == 201

        for typed in ("Zoloft (sertraline)", "sertraline (Zoloft)"):
            response = prescribe(api, patient, typed, 50)
            assert refused_rules(response) == ["DDI-01A"], typed

    def test_the_order_records_the_generic_the_name_resolved_to(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "Zoloft (sertraline)", 50)

        assert response.status_code == 201, response.get_json()
        [order] = plan(api, patient)["medications"]
        assert order["drug"] == "Zoloft (sertraline)"
        assert order["drug_info"]["generic"] == "sertraline"
        assert order["drug_info"]["in_rule_pack"] is True


class TestCombinationDoses:
    def test_the_plan_shows_what_a_combination_product_was_read_as(
        self, api: ApiClient, patient: str
    ) -> None:
        assert in_units(api, patient, "Symbyax 6/25", 1).status_code == 201

        [order] = plan(api, patient)["medications"]

        assert order["drug"] == "Symbyax 6/25"
        assert order["drug_info"]["ingredients"] == ["olanzapine", "fluoxetine"]
        assert {"ssri", "antipsychotic_sga"} <= set(order["drug_info"]["classes"])

    def test_symbyax_12_50_twice_daily_exceeds_both_ingredients_maxima(
        self, api: ApiClient, patient: str
    ) -> None:
        response = in_units(api, patient, "Symbyax 12/50", 2, frequency="twice daily")

        assert response.status_code == 201, response.get_json()
        over = {a["rule_id"]: a["message"] for a in response.get_json()["alerts"]}
        assert "48 mg/day exceeds the 20 mg/day maximum" in over["MAX-OLANZAPINE"]
        assert "200 mg/day exceeds the 80 mg/day maximum" in over["MAX-FLUOXETINE"]

    def test_a_combination_dose_that_cannot_be_split_says_it_was_not_checked(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "olanzapine/fluoxetine", 12)

        assert response.status_code == 201, response.get_json()
        [unchecked] = [
            a for a in response.get_json()["alerts"] if a["rule_id"] == "PACK-DOSE-NOT-CHECKED"
        ]
        assert unchecked["message"].startswith("Dose not checked for olanzapine/fluoxetine")
        assert "strength" in unchecked["message"]
        rules = {a["rule_id"] for a in response.get_json()["alerts"]}
        assert "MAX-OLANZAPINE" not in rules  # 12 mg of the product is not 12 mg olanzapine


class TestAnUnknownDrugBesideAHighRiskOne:
    def test_an_unknown_drug_beside_clozapine_is_a_major_alert_naming_clozapine(
        self, api: ApiClient, patient: str
    ) -> None:
        clozapine = prescribe(api, patient, "clozapine", 12.5, indication="schizophrenia")
        assert clozapine.status_code == 201, clozapine.get_json()
        response = prescribe(api, patient, "Foozol", 10, indication="nausea")

        assert response.status_code == 201, response.get_json()
        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "unknown_drug"]
        assert alert["severity"] == "major"
        assert alert["rule_id"] == "PACK-UNKNOWN-DRUG-HIGH-RISK"
        assert "could not be checked against clozapine" in alert["message"]

    def test_clozapine_started_beside_an_unknown_drug_raises_it_too(
        self, api: ApiClient, patient: str
    ) -> None:
        assert prescribe(api, patient, "Foozol", 10, indication="nausea").status_code == 201

        response = prescribe(api, patient, "clozapine", 12.5, indication="schizophrenia")

        assert response.status_code == 201, response.get_json()
        raised = [a for a in response.get_json()["alerts"] if a["kind"] == "unknown_drug"]
        assert [(a["rule_id"], a["severity"]) for a in raised] == [
            ("PACK-UNKNOWN-DRUG-HIGH-RISK", "major")
        ]
        still_open = [
            a["rule_id"] for a in plan(api, patient)["alerts"] if a["kind"] == "unknown_drug"
        ]
        assert still_open == ["PACK-UNKNOWN-DRUG-HIGH-RISK"]  # the informational one is closed

    def test_an_unknown_drug_alone_stays_informational(self, api: ApiClient, patient: str) -> None:
        response = prescribe(api, patient, "Foozol", 10, indication="nausea")

        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "unknown_drug"]
        assert alert["severity"] == "info"
        assert alert["rule_id"] == "PACK-UNKNOWN-DRUG"
