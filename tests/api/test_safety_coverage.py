"""The rule pack's coverage over HTTP (issue 18, item 5): the pairs it used to miss
(pimozide, linezolid, MAOI switches and partners, carbamazepine with macrolides), maxima
for every psychiatric drug and per indication, benzodiazepine taper steps, and doses no
one can mean refused before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def rules(response: Any) -> dict[str, dict[str, Any]]:
    return {a["rule_id"]: a for a in response.get_json()["alerts"]}


def history_types(api: ApiClient, pid: str) -> list[str]:
    response = api.get(path(pid, "history"), query_string={"limit": 500})
    return [event["type"] for event in response.get_json()["events"]]


def order_of(response: Any) -> str:
    assert response.status_code == 201, response.get_json()
    order: str = response.get_json()["order_id"]
    return order


class TestPairsThePackUsedToMiss:
    def test_pimozide_with_fluoxetine_is_refused_unless_overridden(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "pimozide", 2, indication="Tourette's disorder"))

        refused = prescribe(api, patient, "fluoxetine", 20)
        overridden = prescribe(
            api, patient, "fluoxetine", 20, override_reason="Cardiology-supervised, ECG weekly"
        )

        assert refused.status_code == 422
        assert [a["rule_id"] for a in refused.get_json()["alerts"]] == ["DDI-17B"]
        assert overridden.status_code == 201, overridden.get_json()

    def test_pimozide_with_citalopram_or_escitalopram_is_contraindicated_not_only_major(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "pimozide", 2, indication="Tourette's disorder"))

        for drug in ("citalopram", "escitalopram"):
            response = prescribe(api, patient, drug, 10)
            assert response.status_code == 422, drug
            [alert] = response.get_json()["alerts"]
            assert (alert["rule_id"], alert["severity"]) == ("DDI-17B", "contraindicated")

    def test_linezolid_with_clomipramine_is_refused(self, api: ApiClient, patient: str) -> None:
        order_of(prescribe(api, patient, "clomipramine", 100, indication="OCD"))

        response = prescribe(
            api, patient, "linezolid", 600, frequency="twice daily", indication="MRSA pneumonia"
        )

        assert response.status_code == 422
        assert [a["rule_id"] for a in response.get_json()["alerts"]] == ["DDI-02C"]

    def test_phenelzine_with_carbamazepine_is_refused(self, api: ApiClient, patient: str) -> None:
        order_of(prescribe(api, patient, "phenelzine", 15))

        response = prescribe(api, patient, "carbamazepine", 200, indication="bipolar disorder")

        assert response.status_code == 422
        assert [a["rule_id"] for a in response.get_json()["alerts"]] == ["DDI-01D"]

    def test_phenelzine_with_buspirone_is_a_major_alert(self, api: ApiClient, patient: str) -> None:
        order_of(prescribe(api, patient, "phenelzine", 15))

        response = prescribe(api, patient, "buspirone", 10, frequency="twice daily")

        assert response.status_code == 201, response.get_json()
        assert rules(response)["DDI-01E"]["severity"] == "major"

    def test_carbamazepine_with_clarithromycin_is_a_major_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "carbamazepine", 200, indication="epilepsy"))

        response = prescribe(
            api, patient, "clarithromycin", 500, frequency="twice daily", indication="pneumonia"
        )

        assert response.status_code == 201, response.get_json()
        assert rules(response)["DDI-32A"]["severity"] == "major"


class TestMaoiToMaoiSwitch:
    def test_phenelzine_five_days_after_tranylcypromine_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        order = order_of(prescribe(api, patient, "tranylcypromine", 10, effective_at=ago(60)))
        stopped = api.post(
            path(patient, f"medications/{order}/discontinuation"),
            {"reason": "switching MAOI", "effective_at": ago(5)},
        )
        assert stopped.status_code == 201, stopped.get_json()

        response = prescribe(api, patient, "phenelzine", 15)

        assert response.status_code == 422
        [alert] = response.get_json()["alerts"]
        assert alert["rule_id"] == "WASH-MAOI-MAOI"
        assert "at least 14 days" in alert["message"]

    def test_after_the_washout_the_switch_is_accepted(self, api: ApiClient, patient: str) -> None:
        order = order_of(prescribe(api, patient, "tranylcypromine", 10, effective_at=ago(60)))
        api.post(
            path(patient, f"medications/{order}/discontinuation"),
            {"reason": "switching MAOI", "effective_at": ago(15)},
        )

        assert prescribe(api, patient, "phenelzine", 15).status_code == 201


class TestMaximaForEveryPsychiatricDrug:
    def test_pimozide_20_mg_a_day_exceeds_its_maximum(self, api: ApiClient, patient: str) -> None:
        response = prescribe(api, patient, "pimozide", 10, frequency="twice daily")

        alert = rules(response)["MAX-PIMOZIDE"]
        assert alert["severity"] == "major"
        assert "20 mg/day exceeds the 10 mg/day maximum" in alert["message"]

    def test_tranylcypromine_120_mg_a_day_exceeds_its_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "tranylcypromine", 40, frequency="three times daily")

        assert (
            "120 mg/day exceeds the 60 mg/day maximum"
            in (rules(response)["MAX-TRANYLCYPROMINE"]["message"])
        )

    def test_cariprazine_12_mg_a_day_exceeds_its_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "cariprazine", 12, indication="schizophrenia")

        assert (
            "12 mg/day exceeds the 6 mg/day maximum"
            in (rules(response)["MAX-CARIPRAZINE"]["message"])
        )


class TestIndicationSpecificMaxima:
    def test_clonazepam_9_mg_a_day_for_panic_disorder_exceeds_the_panic_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(
            api,
            patient,
            "clonazepam",
            3,
            frequency="three times daily",
            indication="panic disorder",
        )

        alert = rules(response)["MAX-CLONAZEPAM"]
        assert alert["severity"] == "major"
        assert "9 mg/day exceeds the 4 mg/day maximum for panic disorder" in alert["message"]

    def test_the_icd10_code_of_panic_disorder_is_recognised(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(
            api, patient, "clonazepam", 3, frequency="three times daily", indication="F41.0"
        )

        assert "for panic disorder" in rules(response)["MAX-CLONAZEPAM"]["message"]

    def test_the_same_dose_for_seizures_is_within_the_seizure_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(
            api, patient, "clonazepam", 3, frequency="three times daily", indication="epilepsy"
        )

        assert response.status_code == 201
        assert "MAX-CLONAZEPAM" not in rules(response)

    def test_an_unrecognised_indication_asks_for_it_when_the_dose_is_above_a_lower_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(
            api, patient, "clonazepam", 3, frequency="three times daily", indication="nerves"
        )

        alert = rules(response)["MAX-CLONAZEPAM"]
        assert alert["severity"] == "moderate"
        assert "4 mg/day for panic disorder" in alert["message"]
        assert "'nerves'" in alert["message"]


class TestBenzodiazepineTaperSteps:
    def test_clonazepam_4_mg_halved_to_2_mg_in_one_step_alerts(
        self, api: ApiClient, patient: str
    ) -> None:
        order = order_of(
            prescribe(
                api, patient, "clonazepam", 2, frequency="twice daily", indication="panic disorder"
            )
        )

        response = api.post(
            path(patient, f"medications/{order}/dose-changes"),
            {"dose": {"amount": 1, "unit": "mg"}, "reason": "taper"},
        )

        assert response.status_code == 201, response.get_json()
        assert rules(response)["TAPER-CLONAZEPAM"]["severity"] == "major"

    def test_lorazepam_halved_in_one_step_alerts_and_a_quarter_does_not(
        self, api: ApiClient, patient: str
    ) -> None:
        order = order_of(prescribe(api, patient, "lorazepam", 2, frequency="twice daily"))
        change = path(patient, f"medications/{order}/dose-changes")

        quarter = api.post(change, {"dose": {"amount": 1.5, "unit": "mg"}, "reason": "taper"})
        half = api.post(change, {"dose": {"amount": 0.75, "unit": "mg"}, "reason": "taper"})

        assert "TAPER-BENZODIAZEPINE" not in rules(quarter)
        alert = rules(half)["TAPER-BENZODIAZEPINE"]
        # judged with the cut made just before it: 4 -> 1.5 mg/day within 14 days
        assert (
            "cut from 4 to 1.5 mg/day (62.5%; the limit is 25% of the dose in any 14 days"
            in (alert["message"])
        )


class TestImplausibleDoses:
    def test_sertraline_50000_mg_is_refused_on_the_dose_amount_and_nothing_is_stored(
        self, api: ApiClient, patient: str
    ) -> None:
        before = history_types(api, patient)

        response = prescribe(api, patient, "sertraline", 50000)

        assert response.status_code == 422
        errors = response.get_json()["errors"]
        assert list(errors) == ["dose.amount"]
        assert "200 mg/day" in errors["dose.amount"][0]
        assert "Check the amount and its unit" in errors["dose.amount"][0]
        assert history_types(api, patient) == before
        assert api.get(path(patient, "plan")).get_json()["medications"] == []

    def test_a_dose_change_to_an_implausible_dose_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        order = order_of(prescribe(api, patient, "sertraline", 50))
        before = history_types(api, patient)

        response = api.post(
            path(patient, f"medications/{order}/dose-changes"),
            {"dose": {"amount": 5000, "unit": "mg"}, "reason": "typo"},
        )

        assert response.status_code == 422
        assert list(response.get_json()["errors"]) == ["dose.amount"]
        assert history_types(api, patient) == before

    def test_a_correction_to_an_implausible_dose_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        order = prescribe(api, patient, "sertraline", 50).get_json()
        before = history_types(api, patient)

        response = api.post(
            path(patient, "corrections"),
            {
                "event_id": order["event_id"],
                "fields": {"dose": {"amount": 50, "unit": "g"}},
                "reason": "unit",
            },
        )

        assert response.status_code == 422
        assert list(response.get_json()["errors"]) == ["fields.dose.amount"]
        assert history_types(api, patient) == before

    def test_a_high_but_possible_dose_is_accepted_with_its_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "sertraline", 400)

        assert response.status_code == 201
        assert "MAX-SERTRALINE" in rules(response)
