"""The facts vocabulary over HTTP: the facts the rules read take only their allowed values,
common wordings normalised to them ("Poor metabolizer" -> poor, "stopped smoking" ->
ex-smoker), anything else refused with 422 naming the allowed values; a fact no rule
reads is kept with a warning; the OpenAPI document lists the facts and their values."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def record(api: ApiClient, pid: str, fact: str, value: str) -> Any:
    return api.post(path(pid, "facts"), {"fact": fact, "value": value})


def recorded_value(api: ApiClient, pid: str) -> dict[str, Any]:
    [event] = api.get(
        path(pid, "history"), query_string={"type": "ClinicalFactRecorded"}
    ).get_json()["events"]
    data: dict[str, Any] = event["data"]
    return data


class TestCommonWordingsAreNormalised:
    @pytest.mark.parametrize(
        ("fact", "said", "stored_fact", "stored"),
        [
            ("cyp2c19_metaboliser", "Poor metabolizer", "cyp2c19_metaboliser", "poor"),
            ("CYP2C19 metabolizer status", "poor metaboliser", "cyp2c19_metaboliser", "poor"),
            ("cyp2d6_metaboliser", "PM", "cyp2d6_metaboliser", "poor"),
            ("cyp2d6_metaboliser", "Ultra-rapid metabolizer", "cyp2d6_metaboliser", "ultrarapid"),
            ("smoking", "stopped smoking", "smoking", "ex-smoker"),
            ("Smoking status", "Ex-smoker", "smoking", "ex-smoker"),
            ("smoking", "quit", "smoking", "ex-smoker"),
            ("smoking", "Y", "smoking", "smoker"),
            ("smoking", "never", "smoking", "non-smoker"),
            ("hepatic_impairment", "true", "hepatic_impairment", "yes"),
            ("hepatic_impairment", "Child-Pugh B", "hepatic_impairment", "moderate"),
            ("hepatic_impairment", "n", "hepatic_impairment", "no"),
            ("asian_ancestry", "TRUE", "asian_ancestry", "yes"),
            ("alcohol", "Stopped abruptly", "alcohol_use", "stopped_abruptly"),
        ],
    )
    def test_a_common_wording_is_recorded_as_the_value_the_rules_read(
        self, api: ApiClient, patient: str, fact: str, said: str, stored_fact: str, stored: str
    ) -> None:
        response = record(api, patient, fact, said)

        assert response.status_code == 201, response.get_json()
        assert "warnings" not in response.get_json()
        assert recorded_value(api, patient) == {"fact": stored_fact, "value": stored}

    def test_poor_metabolizer_in_ordinary_words_is_read_by_the_citalopram_rule(
        self, api: ApiClient, patient: str
    ) -> None:
        assert (
            record(api, patient, "CYP2C19 metabolizer status", "Poor metabolizer").status_code
            == 201
        )

        response = prescribe(api, patient, "citalopram", 40)

        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "max_dose"]
        assert alert["rule_id"] == "MAX-CITALOPRAM"
        assert "20 mg/day" in alert["message"]

    def test_stopped_smoking_on_clozapine_raises_the_level_rise_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "clozapine", 12.5)
        record(api, patient, "smoking", "current smoker")

        response = record(api, patient, "smoking", "stopped smoking")

        assert any(a["rule_id"] == "DDI-13" for a in response.get_json()["alerts"])


class TestValuesThatCannotBeNormalised:
    def test_purple_for_smoking_is_a_422_naming_the_allowed_values(
        self, api: ApiClient, patient: str
    ) -> None:
        response = record(api, patient, "smoking", "purple")

        assert response.status_code == 422
        [message] = response.get_json()["errors"]["value"]
        for allowed in ("smoker", "non-smoker", "ex-smoker"):
            assert allowed in message
        assert (
            api.get(
                path(patient, "history"), query_string={"type": "ClinicalFactRecorded"}
            ).get_json()["events"]
            == []
        )

    @pytest.mark.parametrize(
        ("fact", "value"),
        [
            ("cyp2c19_metaboliser", "slowish"),
            ("hepatic_impairment", "a bit"),
            ("alcohol_use", "lots"),
        ],
    )
    def test_other_unknown_values_are_refused_too(
        self, api: ApiClient, patient: str, fact: str, value: str
    ) -> None:
        response = record(api, patient, fact, value)
        problem_naming(response, 422, "value")


class TestCorrectionsOfAFact:
    def test_a_corrected_value_is_normalised_or_refused_like_the_original(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "smoking", "current smoker").get_json()

        def correct(value: str) -> Any:
            return api.post(
                path(patient, "corrections"),
                {"event_id": written["event_id"], "fields": {"value": value}, "reason": "Misheard"},
            )

        refused = correct("purple")
        problem_naming(refused, 422, "fields.value")
        assert correct("stopped smoking").status_code == 201
        [event] = api.get(
            path(patient, "history"), query_string={"type": "EntryCorrected"}
        ).get_json()["events"]
        assert event["data"]["fields"] == {"value": "ex-smoker"}


class TestFreeFacts:
    def test_a_fact_no_rule_reads_is_kept_as_typed_with_a_warning(
        self, api: ApiClient, patient: str
    ) -> None:
        response = record(api, patient, "diet", "Vegetarian")

        assert response.status_code == 201
        [warning] = response.get_json()["warnings"]
        assert "No safety rule reads the fact 'diet'" in warning
        assert "smoking" in warning
        assert recorded_value(api, patient) == {"fact": "diet", "value": "Vegetarian"}


class TestTheVocabularyIsDocumented:
    def test_the_openapi_document_lists_each_fact_with_its_allowed_values(
        self, api: ApiClient
    ) -> None:
        spec = api.get("/openapi.json", as_=None).get_json()
        fact = spec["components"]["schemas"]["FactIn"]["properties"]["fact"]
        listed = fact["x-facts-read-by-rules"]
        assert set(listed) >= {
            "smoking",
            "hepatic_impairment",
            "cyp2c19_metaboliser",
            "cyp2d6_metaboliser",
            "asian_ancestry",
            "alcohol_use",
        }
        assert listed["smoking"]["values"] == ["smoker", "non-smoker", "ex-smoker"]
        assert "Poor metabolizer" in str(listed["cyp2c19_metaboliser"]["wordings"]) or (
            "poor metabolizer" in listed["cyp2c19_metaboliser"]["wordings"]["poor"]
        )
