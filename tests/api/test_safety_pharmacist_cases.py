"""The clinical pharmacist's label-based cases that CareLog got wrong, over HTTP: each
class of miss is fixed at the level of the rule, so each test drives the rule with more
than the one case that found it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def order_of(response: Any) -> str:
    assert response.status_code == 201, response.get_json()
    order: str = response.get_json()["order_id"]
    return order


def alerts(response: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = response.get_json()["alerts"]
    return found


def by_rule(response: Any, rule_id: str) -> list[dict[str, Any]]:
    return [a for a in alerts(response) if a["rule_id"] == rule_id]


CONTINUING = {"continuing": {"since": "2023-11-01", "source": "transfer"}}
"""An order continuing established therapy: no start-dose or titration alerts."""


class TestStrongCyp3a4InhibitorsContraindicated:
    @pytest.mark.parametrize(
        "inhibitor", ["ketoconazole", "itraconazole", "voriconazole", "clarithromycin", "ritonavir"]
    )
    def test_a_strong_inhibitor_added_to_lurasidone_is_refused(
        self, api: ApiClient, patient: str, inhibitor: str
    ) -> None:
        order_of(prescribe(api, patient, "Latuda", 40, indication="schizophrenia"))

        response = prescribe(api, patient, inhibitor, 200, indication="infection")

        assert response.status_code == 422, inhibitor
        assert [a["rule_id"] for a in alerts(response)] == ["DDI-41A"]

    @pytest.mark.parametrize("inhibitor", ["ketoconazole", "posaconazole", "cobicistat"])
    def test_lurasidone_added_to_a_strong_inhibitor_is_refused(
        self, api: ApiClient, patient: str, inhibitor: str
    ) -> None:
        order_of(prescribe(api, patient, inhibitor, 200, indication="infection"))

        response = prescribe(api, patient, "lurasidone", 40, indication="bipolar depression")

        assert response.status_code == 422, inhibitor
        assert [a["rule_id"] for a in alerts(response)] == ["DDI-41A"]

    @pytest.mark.parametrize(
        ("drug", "rule"), [("alprazolam", "DDI-41D"), ("triazolam", "DDI-41B")]
    )
    def test_alprazolam_and_triazolam_with_ketoconazole_or_itraconazole_are_refused(
        self, api: ApiClient, patient: str, drug: str, rule: str
    ) -> None:
        order_of(prescribe(api, patient, "itraconazole", 200, indication="onychomycosis"))

        response = prescribe(api, patient, drug, 0.25, indication="insomnia")

        assert response.status_code == 422
        assert [a["rule_id"] for a in alerts(response)] == [rule]

    def test_oral_midazolam_is_refused_beside_ketoconazole_but_intravenous_is_not(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "ketoconazole", 200, indication="fungal infection"))

        oral = prescribe(api, patient, "midazolam", 7.5, indication="procedural sedation")
        iv = prescribe(api, patient, "midazolam", 2, route="intravenous", indication="sedation")

        assert oral.status_code == 422
        assert [a["rule_id"] for a in alerts(oral)] == ["DDI-41C"]
        assert iv.status_code == 201
        assert by_rule(iv, "DDI-41C") == []

    def test_alprazolam_with_ritonavir_is_major_not_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "alprazolam", 0.5, frequency="three times daily"))

        response = prescribe(api, patient, "ritonavir", 100, indication="HIV")

        assert response.status_code == 201
        assert [a["severity"] for a in by_rule(response, "DDI-41E")] == ["major"]

    def test_carbamazepine_with_voriconazole_is_refused_and_says_which_way_it_goes(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "carbamazepine", 200, indication="epilepsy"))

        response = prescribe(api, patient, "voriconazole", 200, frequency="twice daily")

        assert response.status_code == 422
        [alert] = alerts(response)
        assert alert["rule_id"] == "DDI-32C"
        assert "lowers voriconazole levels" in alert["message"]


class TestLithiumAndValproateDoses:
    def test_lithium_above_the_usual_range_raises_a_major_check_the_level_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(
            api, patient, "lithium", 900, frequency="three times daily", indication="mania"
        )

        [alert] = by_rule(response, "PACK-DOSE-USUAL-RANGE")
        assert alert["severity"] == "major"
        assert "2700 mg/day is above 1800 mg/day" in alert["message"]
        assert "not a hard maximum" in alert["message"]
        assert "lithium level" in alert["action"]

    def test_lithium_within_the_usual_range_raises_no_dose_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "lithium", 600, frequency="twice daily")

        assert [a for a in alerts(response) if a["kind"] == "max_dose"] == []

    @pytest.mark.parametrize(("drug", "amount"), [("lithium", 10000), ("valproate", 25000)])
    def test_a_dose_no_one_can_mean_is_refused_and_not_stored(
        self, api: ApiClient, patient: str, drug: str, amount: float
    ) -> None:
        response = prescribe(api, patient, drug, amount, frequency="twice daily")

        assert response.status_code == 422
        assert "cannot be a real dose" in response.get_json()["errors"]["dose.amount"][0]
        plan = api.get(path(patient, "plan")).get_json()
        assert plan["medications"] == []


class TestLiquidsWithAConcentration:
    def test_sertraline_concentrate_in_ml_is_checked_as_mg(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            path(patient, "medications"),
            {
                "drug": "sertraline oral concentrate 20 mg/mL",
                "dose": {"amount": 15, "unit": "mL"},
                "frequency": "once daily",
                "route": "oral",
                "indication": "depression",
            },
        )

        assert response.status_code == 201
        [alert] = by_rule(response, "MAX-SERTRALINE")
        assert "300 mg/day" in alert["message"]
        assert by_rule(response, "PACK-UNKNOWN-DRUG") == []

    def test_lithium_citrate_with_its_strength_meets_the_nsaid_rule(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(
            api.post(
                path(patient, "medications"),
                {
                    "drug": "lithium citrate 8 mEq/5 mL",
                    "dose": {"amount": 5, "unit": "mL"},
                    "frequency": "three times daily",
                    "route": "oral",
                    "indication": "bipolar disorder",
                },
            )
        )

        response = prescribe(api, patient, "ibuprofen", 400, frequency="three times daily")

        assert [a["severity"] for a in by_rule(response, "DDI-07")] == ["major"]

    def test_zoloft_oral_concentrate_beside_phenelzine_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "phenelzine", 15, frequency="three times daily"))

        response = prescribe(api, patient, "Zoloft oral concentrate", 50)

        assert response.status_code == 422
        assert [a["rule_id"] for a in alerts(response)] == ["DDI-01A"]


class TestParoxetineForDepression:
    @pytest.mark.parametrize("indication", ["major depressive disorder", "MDD", "F32.9"])
    def test_the_ir_form_above_50_mg_is_over_the_mdd_maximum(
        self, api: ApiClient, patient: str, indication: str
    ) -> None:
        response = prescribe(api, patient, "paroxetine IR", 55, indication=indication)

        [alert] = by_rule(response, "MAX-PAROXETINE")
        assert alert["severity"] == "major"
        assert "50 mg/day maximum for major depressive disorder" in alert["message"]

    def test_an_unstated_form_above_50_mg_asks_for_the_formulation(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "Paxil", 60, indication="depression")

        [alert] = by_rule(response, "MAX-PAROXETINE")
        assert alert["severity"] == "moderate"
        assert "formulation" in alert["message"]

    def test_the_cr_form_at_62_5_mg_for_depression_is_within_its_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "Paxil CR", 62.5, indication="depression")

        assert by_rule(response, "MAX-PAROXETINE") == []

    def test_60_mg_for_ocd_is_within_the_maximum(self, api: ApiClient, patient: str) -> None:
        response = prescribe(api, patient, "paroxetine IR", 60, indication="OCD")

        assert by_rule(response, "MAX-PAROXETINE") == []


class TestIntramuscularMaxima:
    @pytest.mark.parametrize(
        ("drug", "amount", "rule"),
        [("olanzapine", 10, "MAX-OLANZAPINE-IM"), ("ziprasidone", 20, "MAX-ZIPRASIDONE-IM")],
    )
    def test_four_im_doses_a_day_exceed_the_label_maximum(
        self, api: ApiClient, patient: str, drug: str, amount: float, rule: str
    ) -> None:
        response = prescribe(
            api,
            patient,
            drug,
            amount,
            route="intramuscular",
            frequency="four times daily",
            indication="agitation",
        )

        [alert] = by_rule(response, rule)
        assert alert["severity"] == "major"
        assert by_rule(response, "PACK-DOSE-NOT-CHECKED") == []


class TestSmokingOnClozapineAndOlanzapine:
    def test_a_first_recorded_ex_smoker_on_clozapine_raises_a_major_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "clozapine", 200, **CONTINUING))

        response = api.post(
            path(patient, "facts"), {"fact": "smoking status", "value": "stopped smoking"}
        )

        [alert] = by_rule(response, "DDI-13")
        assert alert["severity"] == "major"
        assert "recorded as ex-smoker" in alert["message"]

    def test_a_smoker_who_quits_on_olanzapine_is_told_and_named_ex_smoker(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "olanzapine", 10, **CONTINUING))
        api.post(path(patient, "facts"), {"fact": "smoking", "value": "smoker"})

        response = api.post(path(patient, "facts"), {"fact": "smoking", "value": "quit"})

        [alert] = by_rule(response, "DDI-13B")
        assert "from smoker to ex-smoker" in alert["message"]

    def test_a_first_recorded_smoker_on_clozapine_raises_nothing(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "clozapine", 200, **CONTINUING))

        response = api.post(path(patient, "facts"), {"fact": "smoking", "value": "smoker"})

        assert by_rule(response, "DDI-13") == []


class TestStoppedAtOnceForAReaction:
    def test_clozapine_stopped_for_neutropenia_is_not_asked_for_a_taper(
        self, api: ApiClient, patient: str
    ) -> None:
        clozapine = order_of(prescribe(api, patient, "clozapine", 200, **CONTINUING))

        response = api.post(
            path(patient, f"medications/{clozapine}/discontinuation"),
            {"reason": "severe neutropenia", "taper": "stop now (interrupt per REMS)"},
        )

        assert response.status_code == 201
        assert [a["kind"] for a in alerts(response)].count("abrupt_stop") == 0
        [note] = by_rule(response, "TAPER-CLOZAPINE")
        assert "cholinergic rebound" in note["message"]

    def test_lamotrigine_stopped_for_a_rash_is_not_asked_for_a_taper(
        self, api: ApiClient, patient: str
    ) -> None:
        order = order_of(prescribe(api, patient, "lamotrigine", 100, **CONTINUING))

        response = api.post(
            path(patient, f"medications/{order}/discontinuation"), {"reason": "rash with fever"}
        )

        assert [a["kind"] for a in alerts(response)].count("abrupt_stop") == 0

    def test_clozapine_stopped_for_another_reason_still_needs_a_taper(
        self, api: ApiClient, patient: str
    ) -> None:
        clozapine = order_of(prescribe(api, patient, "clozapine", 200, **CONTINUING))

        response = api.post(
            path(patient, f"medications/{clozapine}/discontinuation"), {"reason": "patient wish"}
        )

        assert [a["kind"] for a in by_rule(response, "TAPER-CLOZAPINE")] == ["abrupt_stop"]


def record_lab(api: ApiClient, pid: str, test: str, value: float, unit: str) -> Any:
    response = api.post(path(pid, "labs"), {"test": test, "value": value, "unit": unit})
    assert response.status_code == 201, response.get_json()
    return response


class TestRenalTestNames:
    @pytest.mark.parametrize(
        ("test", "unit", "rule"),
        [
            ("creatinine clearance", "mL/min", "LAB-LITHIUM-CRCL"),
            ("CrCl (Cockcroft-Gault)", "mL/min", "LAB-LITHIUM-CRCL"),
            ("eGFR (CKD-EPI)", "mL/min/1.73m²", "LAB-LITHIUM-EGFR"),
            ("GFR", "mL/min/1.73m²", "LAB-LITHIUM-EGFR"),
            ("estimated GFR", "mL/min/1.73m²", "LAB-LITHIUM-EGFR"),
        ],
    )
    def test_renal_function_below_30_on_lithium_is_a_major_alert_whatever_its_name(
        self, api: ApiClient, patient: str, test: str, unit: str, rule: str
    ) -> None:
        order_of(prescribe(api, patient, "lithium", 300, frequency="three times daily"))

        response = record_lab(api, patient, test, 25, unit)

        assert [a["severity"] for a in by_rule(response, rule)] == ["major"]
        assert "warnings" not in response.get_json()

    def test_a_test_name_no_rule_reads_is_kept_with_a_warning(
        self, api: ApiClient, patient: str
    ) -> None:
        response = record_lab(api, patient, "cystatin C clearance", 25, "mL/min")

        [warning] = response.get_json()["warnings"]
        assert "No safety rule reads the lab test 'cystatin C clearance'" in warning
        events = api.get(path(patient, "history"), query_string={"limit": 500}).get_json()
        [lab] = [e for e in events["events"] if e["type"] == "LabResultRecorded"]
        assert "cystatin C clearance" in str(lab)


class TestSodiumOnMoreAntidepressants:
    @pytest.mark.parametrize(
        "drug", ["vortioxetine", "vilazodone", "mirtazapine", "trazodone", "amitriptyline"]
    )
    def test_sodium_124_is_urgent_on_an_antidepressant_whose_label_warns_of_it(
        self, api: ApiClient, patient: str, drug: str
    ) -> None:
        order_of(prescribe(api, patient, drug, 10, **CONTINUING))

        response = record_lab(api, patient, "sodium", 124, "mmol/L")

        assert [a["severity"] for a in by_rule(response, "LAB-SODIUM-LOW")] == ["urgent"]

    def test_sodium_124_on_bupropion_raises_no_sodium_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        order_of(prescribe(api, patient, "bupropion", 150, **CONTINUING))

        response = record_lab(api, patient, "sodium", 124, "mmol/L")

        assert by_rule(response, "LAB-SODIUM-LOW") == []


class TestTabletsAsDoseUnits:
    def test_a_combination_dosed_in_tablets_is_split_per_ingredient(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            path(patient, "medications"),
            {
                "drug": "Symbyax 6/25",
                "dose": {"amount": 1, "unit": "tablet"},
                "frequency": "once daily",
                "route": "oral",
                "indication": "bipolar depression",
            },
        )

        assert response.status_code == 201, response.get_json()
        assert by_rule(response, "PACK-DOSE-NOT-CHECKED") == []
        [order] = api.get(path(patient, "plan")).get_json()["medications"]
        assert order["dose"]["unit"] == "units"
