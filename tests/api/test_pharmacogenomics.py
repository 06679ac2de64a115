"""Pharmacogenomic results over HTTP: recorded as reported, read by CPIC's tables (or kept
as not interpretable), applied to every active drug when they arrive and to each
prescription and dose change after, with CYP2D6 phenoconversion by a strong inhibitor that
stopping the inhibitor lifts; shown in the plan with their source, at any point of both
clocks, and in the FHIR export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

CARELOG = {"id": "carelog", "role": "system"}
REPORTED = "2026-01-05"


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def record(api: ApiClient, pid: str, gene: str, diplotype: str | None = None, **extra: Any) -> Any:
    body = {"gene": gene, "lab": "GeneLab", "report_date": REPORTED, **extra}
    if diplotype is not None:
        body["diplotype"] = diplotype
    response = api.post(path(pid, "pharmacogenomic-results"), body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def started(api: ApiClient, pid: str, drug: str, amount: float, **extra: Any) -> dict[str, Any]:
    response = prescribe(api, pid, drug, amount, **extra)
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def plan(api: ApiClient, pid: str, **query: str) -> dict[str, Any]:
    response = api.get(path(pid, "plan"), query_string=query)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def open_alerts(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = plan(api, pid)["alerts"]
    return alerts


def pgx(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in alerts if a["rule_id"].startswith("PGX-")]


def resolutions(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get(
        path(pid, "history"), query_string={"type": "SafetyAlertResolved"}
    ).get_json()["events"]
    return events


def stop(api: ApiClient, pid: str, order_id: str) -> None:
    response = api.post(
        path(pid, f"medications/{order_id}/discontinuation"),
        {"reason": "No longer needed", "taper": "halve weekly for 2 weeks"},
    )
    assert response.status_code == 201, response.get_json()


def change_dose(api: ApiClient, pid: str, order_id: str, amount: float) -> Any:
    return api.post(
        path(pid, f"medications/{order_id}/dose-changes"),
        {"dose": {"amount": amount, "unit": "mg"}, "frequency": "once daily", "reason": "review"},
    )


class TestRecordingAResult:
    def test_a_cyp2d6_diplotype_is_read_by_its_activity_score(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2D6", "*1/*4")

        assert written["result_id"]
        assert written["phenotype"] == "intermediate"
        assert "activity score 1" in written["interpretation"]
        [gene] = plan(api, patient)["pharmacogenomics"]["phenotypes"]
        assert gene == {
            "gene": "CYP2D6",
            "phenotype": "intermediate",
            "source": "result",
            "described": "result of 2026-01-05 from GeneLab: diplotype *1/*4 (activity score 1)",
            "result_ids": [written["result_id"]],
            "problem": None,
        }

    def test_a_reported_phenotype_in_the_labs_words_is_understood(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "cyp2c19", phenotype="CYP2C19 Poor Metabolizer (PM)")

        assert written["phenotype"] == "poor"
        [result] = plan(api, patient)["pharmacogenomics"]["results"]
        assert result["gene"] == "CYP2C19"
        assert result["phenotype_reported"] == "CYP2C19 Poor Metabolizer (PM)"

    def test_an_unknown_allele_is_kept_as_not_interpretable_never_guessed(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2D6", "*1/*99")

        assert "phenotype" not in written
        assert written["interpretation"] == "not interpretable"
        assert "not interpretable" in written["warnings"][0]
        [result] = plan(api, patient)["pharmacogenomics"]["results"]
        assert result["diplotype"] == "*1/*99"
        assert result["phenotype"] is None
        assert "not in CareLog's CPIC table" in result["problem"]

    def test_a_diplotype_and_a_phenotype_that_disagree_are_not_interpretable(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2D6", "*1/*4", phenotype="Poor metabolizer")

        assert written["interpretation"] == "not interpretable"
        [gene] = plan(api, patient)["pharmacogenomics"]["phenotypes"]
        assert gene["phenotype"] is None
        assert "reported poor" in gene["problem"]

    def test_a_duplication_of_unknown_copy_number_that_changes_the_phenotype_is_not_read(
        self, api: ApiClient, patient: str
    ) -> None:
        assert record(api, patient, "CYP2D6", "*1xN/*4")["interpretation"] == "not interpretable"
        assert record(api, patient, "CYP2D6", "*1xN/*1")["phenotype"] == "ultrarapid"

    def test_a_gene_carelog_has_no_table_for_is_kept_and_said_to_be_read_by_no_rule(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2C9", "*1/*3")

        assert written["interpretation"] == "not interpretable"
        assert "no table for the gene" in written["warnings"][0]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"gene": "CYP2D6", "lab": "GeneLab", "report_date": REPORTED}, "diplotype"),
            (
                {"gene": "CYP2D6", "diplotype": "*1/*1", "lab": "L", "report_date": "2999-01-01"},
                "report_date",
            ),
            (
                {"gene": "CYP2D6", "diplotype": "*1/*1", "lab": "L", "report_date": "5 Jan"},
                "report_date",
            ),
            ({"gene": "CYP2D6", "diplotype": "*1/*1", "report_date": REPORTED}, "lab"),
            ({"gene": " ", "diplotype": "*1/*1", "lab": "L", "report_date": REPORTED}, "gene"),
        ],
    )
    def test_a_result_missing_what_it_needs_is_refused_naming_the_field(
        self, api: ApiClient, patient: str, body: dict[str, Any], field: str
    ) -> None:
        response = api.post(path(patient, "pharmacogenomic-results"), body)

        # a required field missing is malformed (400); a value the domain refuses, 422
        assert response.status_code == (400 if field == "lab" else 422), response.get_json()
        assert field in response.get_json()["errors"]
        assert plan(api, patient)["pharmacogenomics"]["results"] == []

    def test_the_same_idempotency_key_records_the_result_once(
        self, api: ApiClient, patient: str
    ) -> None:
        body = {"gene": "CYP2D6", "diplotype": "*4/*4", "lab": "L", "report_date": REPORTED}
        headers = {"Idempotency-Key": "pgx-once"}
        first = api.post(path(patient, "pharmacogenomic-results"), body, headers=headers)
        again = api.post(path(patient, "pharmacogenomic-results"), body, headers=headers)

        assert first.status_code == 201
        assert again.get_json()["result_id"] == first.get_json()["result_id"]
        assert len(plan(api, patient)["pharmacogenomics"]["results"]) == 1


ROWS = [
    # (gene, diplotype or phenotype, drug, daily mg, rule) — one per row of the reference table
    ("CYP2C19", "*2/*2", "citalopram", 20, "PGX-CYP2C19-PM-CITALOPRAM"),
    ("CYP2C19", "*2/*3", "escitalopram", 10, "PGX-CYP2C19-PM-CITALOPRAM"),
    ("CYP2C19", "*17/*17", "escitalopram", 10, "PGX-CYP2C19-UM-CITALOPRAM"),
    ("CYP2C19", "*2/*2", "sertraline", 50, "PGX-CYP2C19-PM-SERTRALINE"),
    ("CYP2D6", "*4/*4", "paroxetine", 20, "PGX-CYP2D6-PM-PAROXETINE-FLUVOXAMINE"),
    ("CYP2D6", "*4/*5", "fluvoxamine", 50, "PGX-CYP2D6-PM-PAROXETINE-FLUVOXAMINE"),
    ("CYP2D6", "*1/*1x2", "paroxetine", 20, "PGX-CYP2D6-UM-PAROXETINE"),
    ("CYP2D6", "*4/*4", "vortioxetine", 10, "PGX-CYP2D6-PM-VORTIOXETINE"),
    ("CYP2D6", "*3/*4", "nortriptyline", 25, "PGX-CYP2D6-PM-TCA"),
    ("CYP2D6", "*2x2/*1", "amitriptyline", 25, "PGX-CYP2D6-UM-TCA"),
    ("CYP2C19", "*17/*17", "clomipramine", 25, "PGX-CYP2C19-UM-TCA"),
    ("CYP2C19", "*2/*2", "imipramine", 25, "PGX-CYP2C19-PM-TCA"),
    ("CYP2D6", "*4/*4", "aripiprazole", 5, "PGX-CYP2D6-PM-ARIPIPRAZOLE"),
    ("CYP2D6", "*4/*4", "brexpiprazole", 1, "PGX-CYP2D6-PM-BREXPIPRAZOLE"),
    ("CYP2D6", "*4/*4", "iloperidone", 6, "PGX-CYP2D6-PM-ILOPERIDONE"),
    ("CYP2D6", "*4/*4", "pimozide", 2, "PGX-CYP2D6-PM-PIMOZIDE"),
    ("CYP2D6", "*5/*6", "atomoxetine", 40, "PGX-CYP2D6-PM-ATOMOXETINE"),
    ("HLA-B", "*15:02/*40:01", "carbamazepine", 200, "LAB-HLA-B1502-CARBAMAZEPINE"),
    ("HLA-B*15:02", "positive", "oxcarbazepine", 600, "LAB-HLA-B1502-CARBAMAZEPINE"),
    ("HLA-A", "*31:01/*02:01", "carbamazepine", 200, "PGX-HLA-A3101-CARBAMAZEPINE"),
    ("POLG", "positive", "valproate", 500, "PGX-POLG-VALPROATE"),
    ("CYP2D6", "*1/*4", "nortriptyline", 25, "PGX-CYP2D6-IM-TCA"),
    ("CYP2D6", "*4/*41", "amitriptyline", 25, "PGX-CYP2D6-IM-TCA"),
    ("CYP2D6", "*4/*4", "thioridazine", 50, "PGX-CYP2D6-PM-THIORIDAZINE"),
    ("CYP2D6", "*4/*4", "venlafaxine", 75, "PGX-CYP2D6-PM-VENLAFAXINE"),
    ("POLG", "pathogenic variant detected", "valproate", 500, "PGX-POLG-VALPROATE"),
]
CONTRAINDICATED = (
    "LAB-HLA-B1502-CARBAMAZEPINE",
    "PGX-POLG-VALPROATE",
    "PGX-CYP2D6-PM-THIORIDAZINE",
)


def _report(gene: str, said: str) -> dict[str, str]:
    return {"phenotype": said} if "/" not in said else {"diplotype": said}


class TestEachRowOfTheReferenceTable:
    @pytest.mark.parametrize(("gene", "said", "drug", "amount", "rule"), ROWS)
    def test_a_result_arriving_alerts_on_the_active_drug_with_the_action(
        self,
        api: ApiClient,
        patient: str,
        gene: str,
        said: str,
        drug: str,
        amount: float,
        rule: str,
    ) -> None:
        order = started(api, patient, drug, amount)

        written = record(api, patient, gene, **_report(gene, said))

        [alert] = [a for a in written["alerts"] if a["rule_id"] == rule]
        assert alert["order_ids"][0] == order["order_id"]
        assert alert["action"]
        assert alert["source"]
        assert alert["id"] in [a["id"] for a in open_alerts(api, patient)]

    @pytest.mark.parametrize(("gene", "said", "drug", "amount", "rule"), ROWS)
    def test_a_prescription_after_the_result_is_checked_against_it(
        self,
        api: ApiClient,
        patient: str,
        gene: str,
        said: str,
        drug: str,
        amount: float,
        rule: str,
    ) -> None:
        record(api, patient, gene, **_report(gene, said))

        response = prescribe(api, patient, drug, amount)

        body = response.get_json()
        assert rule in {a["rule_id"] for a in body["alerts"]}
        if rule in CONTRAINDICATED:
            assert response.status_code == 422  # contraindicated: refused unless overridden
            assert "override_reason" in body["errors"]
        else:
            assert response.status_code == 201

    @pytest.mark.parametrize(
        ("gene", "diplotype", "drug"),
        [
            ("CYP2D6", "*1/*1", "pimozide"),
            ("CYP2D6", "*1/*2", "nortriptyline"),
            ("CYP2C19", "*1/*1", "citalopram"),
            ("HLA-B", "*07:02/*40:01", "carbamazepine"),
            ("HLA-A", "*02:01/*24:02", "carbamazepine"),
        ],
    )
    def test_a_normal_result_raises_no_pharmacogenomic_alert(
        self, api: ApiClient, patient: str, gene: str, diplotype: str, drug: str
    ) -> None:
        started(api, patient, drug, 2 if drug == "pimozide" else 20)

        written = record(api, patient, gene, diplotype)

        assert pgx(written["alerts"]) == []
        assert "HLA" not in " ".join(a["rule_id"] for a in written["alerts"])


class TestHlaScreening:
    def test_a_negative_hla_b_result_is_the_screening_carbamazepine_asks_for(
        self, api: ApiClient, patient: str
    ) -> None:
        api.post(path(patient, "facts"), {"fact": "asian_ancestry", "value": "yes"})
        started(api, patient, "carbamazepine", 200)
        assert any("HLA-B*1502" in a["message"] for a in open_alerts(api, patient))

        written = record(api, patient, "HLA-B", "*40:01/*58:01")

        assert written["phenotype"] == "negative"
        assert not any("HLA-B*1502" in a["message"] for a in open_alerts(api, patient))
        assert not any(a["severity"] == "contraindicated" for a in open_alerts(api, patient))


class TestAResultArrivingAfterDrugsAreActive:
    def test_one_alert_per_affected_order_and_none_for_the_others(
        self, api: ApiClient, patient: str
    ) -> None:
        aripiprazole = started(api, patient, "aripiprazole", 5)["order_id"]
        vortioxetine = started(api, patient, "vortioxetine", 5)["order_id"]
        started(api, patient, "lamotrigine", 25)

        written = record(api, patient, "CYP2D6", "*4/*4")

        found = {a["rule_id"]: a["order_ids"] for a in pgx(written["alerts"])}
        assert found == {
            "PGX-CYP2D6-PM-ARIPIPRAZOLE": [aripiprazole],
            "PGX-CYP2D6-PM-VORTIOXETINE": [vortioxetine],
        }

    def test_the_alert_names_the_result_it_rests_on(self, api: ApiClient, patient: str) -> None:
        started(api, patient, "pimozide", 2)

        [alert] = pgx(record(api, patient, "CYP2D6", "*4/*4")["alerts"])

        assert "CYP2D6 poor metaboliser" in alert["message"]
        assert "GeneLab" in alert["message"]
        assert "*4/*4" in alert["message"]


class TestPhenotypeDependentDoseLimits:
    def test_pimozide_above_4_mg_in_a_poor_metaboliser_is_flagged_and_closed_when_lowered(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")
        order = started(api, patient, "pimozide", 6)
        [over] = [a for a in order["alerts"] if "above 4 mg/day" in a["message"]]
        assert over["severity"] == "major"

        lowered = change_dose(api, patient, order["order_id"], 4)

        assert lowered.status_code == 201, lowered.get_json()
        assert over["id"] not in [a["id"] for a in open_alerts(api, patient)]
        [closed] = [e for e in resolutions(api, patient) if e["data"]["alert_id"] == over["id"]]
        assert closed["actor"] == CARELOG
        assert closed["data"]["resolution"] == "no_longer_applies"

    def test_brexpiprazole_above_half_the_maximum_in_a_poor_metaboliser_is_flagged(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")

        alerts = started(api, patient, "brexpiprazole", 3)["alerts"]

        assert any("3 mg/day is above 2 mg/day" in a["message"] for a in alerts)

    def test_a_result_is_read_by_the_citalopram_cap_like_the_metaboliser_fact(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2C19", "*2/*2")

        alerts = started(api, patient, "citalopram", 40)["alerts"]

        [cap] = [a for a in alerts if a["rule_id"] == "MAX-CITALOPRAM"]
        assert "20 mg/day maximum for CYP2C19 poor metabolisers" in cap["message"]

    def test_vortioxetine_is_capped_at_10_mg_by_a_poor_metaboliser_result(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", phenotype="Poor metabolizer")

        alerts = started(api, patient, "vortioxetine", 20)["alerts"]

        assert any(
            a["rule_id"] == "MAX-VORTIOXETINE" and "10 mg/day maximum" in a["message"]
            for a in alerts
        )


class TestPhenoconversion:
    def test_starting_fluoxetine_beside_a_normal_metaboliser_on_aripiprazole_names_it(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*1")
        aripiprazole = started(api, patient, "aripiprazole", 10)
        assert pgx(aripiprazole["alerts"]) == []

        fluoxetine = started(api, patient, "fluoxetine", 20)

        [alert] = pgx(fluoxetine["alerts"])
        assert alert["rule_id"] == "PGX-CYP2D6-PM-ARIPIPRAZOLE"
        assert "fluoxetine" in alert["message"]
        assert "phenoconversion" in alert["message"]
        assert "normal metaboliser" in alert["message"]
        assert set(alert["order_ids"]) == {aripiprazole["order_id"], fluoxetine["order_id"]}

    def test_stopping_the_inhibitor_lifts_it_closed_by_carelog(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*1")
        started(api, patient, "aripiprazole", 10)
        fluoxetine = started(api, patient, "fluoxetine", 20)
        [alert] = pgx(fluoxetine["alerts"])

        stop(api, patient, fluoxetine["order_id"])

        assert pgx(open_alerts(api, patient)) == []
        [closed] = [e for e in resolutions(api, patient) if e["data"]["alert_id"] == alert["id"]]
        assert closed["actor"] == CARELOG
        assert closed["data"]["resolution"] == "no_longer_applies"

    def test_an_intermediate_metaboliser_on_bupropion_gets_the_poor_metaboliser_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*4")
        started(api, patient, "bupropion", 150)

        alerts = started(api, patient, "brexpiprazole", 3)["alerts"]

        [over] = [a for a in pgx(alerts) if "above 2 mg/day" in a["message"]]
        assert "bupropion" in over["message"]
        assert "intermediate metaboliser" in over["message"]

    def test_without_a_genotype_on_record_there_is_no_phenoconversion_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "aripiprazole", 10)

        alerts = started(api, patient, "fluoxetine", 20)["alerts"]

        assert pgx(alerts) == []
        assert "DDI-21" in {a["rule_id"] for a in alerts}  # the interaction itself still is

    def test_a_poor_metaboliser_is_not_said_to_be_phenoconverted(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")
        started(api, patient, "aripiprazole", 5)

        alerts = started(api, patient, "fluoxetine", 20)["alerts"]

        assert all("phenoconversion" not in a["message"] for a in alerts)


class TestResultsAndFacts:
    def test_a_metaboliser_fact_is_read_when_no_result_is_on_record(
        self, api: ApiClient, patient: str
    ) -> None:
        fact = api.post(path(patient, "facts"), {"fact": "CYP2D6 phenotype", "value": "PM"})
        assert fact.status_code == 201, fact.get_json()

        alerts = started(api, patient, "pimozide", 2)["alerts"]

        [alert] = pgx(alerts)
        assert "clinical fact cyp2d6_metaboliser" in alert["message"]
        [gene] = plan(api, patient)["pharmacogenomics"]["phenotypes"]
        assert (gene["phenotype"], gene["source"]) == ("poor", "result" if False else "fact")

    def test_a_result_is_the_better_source_and_the_plan_says_so(
        self, api: ApiClient, patient: str
    ) -> None:
        api.post(path(patient, "facts"), {"fact": "cyp2d6_metaboliser", "value": "poor"})
        started(api, patient, "pimozide", 2)

        written = record(api, patient, "CYP2D6", "*1/*1")

        [gene] = plan(api, patient)["pharmacogenomics"]["phenotypes"]
        assert (gene["phenotype"], gene["source"]) == ("normal", "result")
        assert pgx(open_alerts(api, patient)) == []
        assert written["alerts"] == []

    def test_a_fact_recorded_beside_a_result_is_said_to_be_read_after_it(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*1")

        response = api.post(path(patient, "facts"), {"fact": "cyp2d6_metaboliser", "value": "PM"})

        assert response.status_code == 201
        [warning] = response.get_json()["warnings"]
        assert "the rules read it, not this fact" in warning
        assert "normal" in warning


class TestLateAndCorrectedResults:
    def test_a_corrected_diplotype_raises_what_it_now_means_and_closes_what_it_no_longer_does(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "pimozide", 2)
        written = record(api, patient, "CYP2D6", "*1/*1")
        assert pgx(written["alerts"]) == []

        corrected = api.post(
            path(patient, "corrections"),
            {"event_id": written["event_id"], "fields": {"diplotype": "*4/*4"}, "reason": "typo"},
        )

        assert corrected.status_code == 201, corrected.get_json()
        [alert] = pgx(corrected.get_json()["alerts"])
        assert "*4/*4" in alert["message"]
        [result] = plan(api, patient)["pharmacogenomics"]["results"]
        assert (result["diplotype"], result["corrected"]) == ("*4/*4", True)

        back = api.post(
            path(patient, "corrections"),
            {"event_id": written["event_id"], "fields": {"diplotype": "*1/*1"}, "reason": "lab"},
        )
        assert back.status_code == 201, back.get_json()
        assert pgx(open_alerts(api, patient)) == []
        [closed] = [e for e in resolutions(api, patient) if e["data"]["alert_id"] == alert["id"]]
        assert closed["actor"] == CARELOG

    def test_a_correction_with_a_bad_report_date_is_refused_naming_the_field(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2D6", "*1/*1")

        response = api.post(
            path(patient, "corrections"),
            {
                "event_id": written["event_id"],
                "fields": {"report_date": "2999-01-01"},
                "reason": "x",
            },
        )

        problem_naming(response, 422, "fields.report_date")

    def test_a_correction_cannot_take_away_both_the_diplotype_and_the_phenotype(
        self, api: ApiClient, patient: str
    ) -> None:
        written = record(api, patient, "CYP2D6", "*1/*1")

        response = api.post(
            path(patient, "corrections"),
            {"event_id": written["event_id"], "fields": {"diplotype": None}, "reason": "x"},
        )

        problem_naming(response, 422, "fields")

    def test_a_result_cannot_be_in_effect_before_its_report(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            path(patient, "pharmacogenomic-results"),
            {
                "gene": "CYP2D6",
                "diplotype": "*1/*1",
                "lab": "GeneLab",
                "report_date": REPORTED,
                "effective_at": "2026-01-01T09:00:00Z",
            },
        )

        problem_naming(response, 422, "effective_at")

    def test_the_gene_of_a_result_cannot_be_corrected(self, api: ApiClient, patient: str) -> None:
        written = record(api, patient, "CYP2D6", "*1/*1")

        response = api.post(
            path(patient, "corrections"),
            {"event_id": written["event_id"], "fields": {"gene": "CYP2C19"}, "reason": "x"},
        )

        assert response.status_code == 422

    def test_the_plan_as_known_when_the_prescription_was_written_has_no_result_yet(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "pimozide", 2)
        [prescribed] = api.get(
            path(patient, "history"), query_string={"type": "MedicationPrescribed"}
        ).get_json()["events"]
        record(api, patient, "CYP2D6", "*4/*4")

        then = plan(api, patient, as_of=prescribed["recorded_at"])
        now = plan(api, patient)

        assert then["pharmacogenomics"] == {"phenotypes": [], "results": []}
        assert [g["phenotype"] for g in now["pharmacogenomics"]["phenotypes"]] == ["poor"]

    def test_a_late_result_is_in_effect_from_its_effective_time_only(
        self, api: ApiClient, patient: str
    ) -> None:
        now = datetime.now(UTC)
        known = (now - timedelta(days=10)).isoformat()
        record(api, patient, "CYP2C19", "*2/*2", effective_at=known)

        before = plan(api, patient, effective_at=(now - timedelta(days=11)).isoformat())
        after = plan(api, patient, effective_at=(now - timedelta(days=9)).isoformat())

        assert before["pharmacogenomics"]["results"] == []
        [result] = after["pharmacogenomics"]["results"]
        assert result["phenotype"] == "poor"


class TestNotInterpretableResults:
    def test_an_active_drug_of_the_gene_gets_an_alert_saying_the_result_cannot_be_read(
        self, api: ApiClient, patient: str
    ) -> None:
        order = started(api, patient, "nortriptyline", 25)

        written = record(api, patient, "CYP2D6", "*1/*99")

        [alert] = pgx(written["alerts"])
        assert alert["rule_id"] == "PGX-NOT-INTERPRETABLE"
        assert alert["order_ids"] == [order["order_id"]]
        assert "CYP2D6 result not interpretable" in alert["message"]

    def test_results_that_disagree_are_a_conflict_read_by_no_rule(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "pimozide", 2)
        record(api, patient, "CYP2D6", "*1/*1")

        written = record(api, patient, "CYP2D6", "*4/*4", lab="OtherLab")

        [alert] = pgx(written["alerts"])
        assert alert["rule_id"] == "PGX-NOT-INTERPRETABLE"
        assert "disagree" in alert["message"]


class TestFhirExport:
    def test_results_are_exported_as_loinc_coded_genomics_observations(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")
        record(api, patient, "CYP2C19", "*1/*99")

        bundle = api.get(path(patient, "fhir")).get_json()

        observations = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"
            and any(
                c.get("system") == "http://loinc.org"
                for c in e["resource"]["code"].get("coding", [])
            )
        ]
        codes = sorted(o["code"]["coding"][0]["code"] for o in observations)
        assert codes == ["53040-2", "53040-2", "84413-4", "84413-4"]
        [poor] = [
            o
            for o in observations
            if o.get("valueCodeableConcept", {}).get("text") == "CYP2D6 poor"
        ]
        assert poor["component"][0]["valueCodeableConcept"]["coding"][0]["code"] == "HGNC:2625"
        assert "derivedFrom" in poor
        [unread] = [o for o in observations if "dataAbsentReason" in o]
        assert "Not interpretable" in unread["dataAbsentReason"]["text"]


CPIC_TCAS = (
    "amitriptyline",
    "clomipramine",
    "desipramine",
    "doxepin",
    "imipramine",
    "nortriptyline",
    "protriptyline",
    "trimipramine",
)


def rules_of(alerts: list[dict[str, Any]]) -> set[str]:
    return {a["rule_id"] for a in alerts}


class TestTricyclicsInAnIntermediateMetaboliser:
    @pytest.mark.parametrize("drug", CPIC_TCAS)
    def test_each_cpic_tricyclic_gets_a_25_percent_lower_start_and_drug_levels(
        self, api: ApiClient, patient: str, drug: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*4")

        alerts = started(api, patient, drug, 25)["alerts"]

        [alert] = [a for a in alerts if a["rule_id"] == "PGX-CYP2D6-IM-TCA"]
        assert alert["severity"] == "moderate"
        assert "intermediate metaboliser" in alert["message"]
        assert "25 % lower starting dose" in alert["action"]
        assert "therapeutic drug monitoring" in alert["action"]
        assert "Hicks" in alert["source"]

    def test_a_reported_im_phenotype_is_read_like_the_diplotype(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "nortriptyline", 50)

        written = record(api, patient, "CYP2D6", phenotype="IM")

        assert "PGX-CYP2D6-IM-TCA" in rules_of(written["alerts"])

    def test_a_normal_metaboliser_on_a_tricyclic_gets_no_reduction_advice(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*1")

        assert pgx(started(api, patient, "nortriptyline", 50)["alerts"]) == []

    def test_a_strong_inhibitor_adds_the_poor_metaboliser_alert_and_stopping_it_lifts_that_only(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*4")
        started(api, patient, "nortriptyline", 50)

        bupropion = started(api, patient, "bupropion", 150)

        [poor] = pgx(bupropion["alerts"])
        assert poor["rule_id"] == "PGX-CYP2D6-PM-TCA"
        assert poor["severity"] == "major"
        assert "bupropion" in poor["message"]
        assert "phenoconversion" in poor["message"]
        assert "intermediate metaboliser" in poor["message"]
        assert rules_of(pgx(open_alerts(api, patient))) == {
            "PGX-CYP2D6-IM-TCA",
            "PGX-CYP2D6-PM-TCA",
        }

        stop(api, patient, bupropion["order_id"])

        assert rules_of(pgx(open_alerts(api, patient))) == {"PGX-CYP2D6-IM-TCA"}


class TestThioridazineInAPoorMetaboliser:
    def test_it_is_refused_at_prescription_and_accepted_with_an_override(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")

        refused = prescribe(api, patient, "thioridazine", 50)
        overridden = prescribe(
            api, patient, "thioridazine", 50, override_reason="Only drug tolerated; ECG weekly"
        )

        assert refused.status_code == 422
        assert "PGX-CYP2D6-PM-THIORIDAZINE" in rules_of(refused.get_json()["alerts"])
        assert overridden.status_code == 201, overridden.get_json()

    def test_a_poor_metaboliser_result_arriving_while_it_is_taken_alerts_and_is_recorded(
        self, api: ApiClient, patient: str
    ) -> None:
        order = started(api, patient, "thioridazine", 50)

        written = record(api, patient, "CYP2D6", phenotype="Poor metabolizer")

        [alert] = [a for a in written["alerts"] if a["rule_id"] == "PGX-CYP2D6-PM-THIORIDAZINE"]
        assert alert["severity"] == "contraindicated"
        assert alert["order_ids"] == [order["order_id"]]
        assert "review thioridazine without delay" in alert["message"]

    def test_a_normal_metaboliser_on_a_strong_inhibitor_is_refused_too(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*1")
        started(api, patient, "bupropion", 150)

        refused = prescribe(api, patient, "thioridazine", 50)

        assert refused.status_code == 422
        [alert] = [
            a for a in refused.get_json()["alerts"] if a["rule_id"] == "PGX-CYP2D6-PM-THIORIDAZINE"
        ]
        assert "phenoconversion" in alert["message"]


class TestPimozideAbove4MgWithoutACyp2d6Genotype:
    def test_above_4_mg_with_no_result_asks_to_genotype_first(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient, "pimozide", 6, indication="Tourette's disorder")

        assert response.status_code == 201, response.get_json()
        [alert] = [
            a
            for a in response.get_json()["alerts"]
            if a["rule_id"] == "PGX-CYP2D6-GENOTYPE-PIMOZIDE"
        ]
        assert alert["severity"] == "major"
        assert "no CYP2D6 result is on record" in alert["message"]
        assert "Genotype CYP2D6 before exceeding 4 mg/day" in alert["action"]
        assert "Orap" in alert["source"]

    def test_4_mg_or_less_needs_no_genotype(self, api: ApiClient, patient: str) -> None:
        alerts = started(api, patient, "pimozide", 4, indication="Tourette's disorder")["alerts"]

        assert "PGX-CYP2D6-GENOTYPE-PIMOZIDE" not in rules_of(alerts)

    def test_an_uninterpretable_result_does_not_count_as_a_genotype(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*1/*99")

        alerts = started(api, patient, "pimozide", 6, indication="Tourette's disorder")["alerts"]

        [alert] = [a for a in alerts if a["rule_id"] == "PGX-CYP2D6-GENOTYPE-PIMOZIDE"]
        assert "could not be read" in alert["message"]

    def test_a_normal_result_arriving_closes_it(self, api: ApiClient, patient: str) -> None:
        order = started(api, patient, "pimozide", 6, indication="Tourette's disorder")
        [alert] = [a for a in order["alerts"] if a["rule_id"] == "PGX-CYP2D6-GENOTYPE-PIMOZIDE"]

        written = record(api, patient, "CYP2D6", "*1/*1")

        assert "PGX-CYP2D6-GENOTYPE-PIMOZIDE" not in rules_of(written["alerts"])
        assert alert["id"] not in [a["id"] for a in open_alerts(api, patient)]

    def test_a_poor_result_replaces_it_with_the_4_mg_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        started(api, patient, "pimozide", 6, indication="Tourette's disorder")

        written = record(api, patient, "CYP2D6", "*4/*4")

        found = rules_of(written["alerts"])
        assert "PGX-CYP2D6-GENOTYPE-PIMOZIDE" not in found
        assert any("above 4 mg/day" in a["message"] for a in written["alerts"])


class TestVenlafaxineInAPoorMetaboliser:
    def test_it_suggests_an_antidepressant_not_mainly_metabolised_by_cyp2d6(
        self, api: ApiClient, patient: str
    ) -> None:
        record(api, patient, "CYP2D6", "*4/*4")

        alerts = started(api, patient, "venlafaxine", 75)["alerts"]

        [alert] = [a for a in alerts if a["rule_id"] == "PGX-CYP2D6-PM-VENLAFAXINE"]
        assert alert["severity"] == "minor"
        assert "not predominantly metabolised by CYP2D6" in alert["action"]


class TestLabWordingsOfPolgAndHla:
    @pytest.mark.parametrize(
        "said",
        [
            "pathogenic variant detected",
            "Pathogenic",
            "likely pathogenic variant",
            "Pathogenic variant identified",
            "positive",
        ],
    )
    def test_a_pathogenic_polg_result_refuses_valproate(
        self, api: ApiClient, patient: str, said: str
    ) -> None:
        written = record(api, patient, "POLG", phenotype=said)
        assert written["phenotype"] == "positive"

        response = prescribe(api, patient, "valproate", 500, frequency="twice daily")

        assert response.status_code == 422
        assert "PGX-POLG-VALPROATE" in rules_of(response.get_json()["alerts"])

    @pytest.mark.parametrize("said", ["variant of uncertain significance", "VUS"])
    def test_a_variant_of_uncertain_significance_is_not_interpretable_never_positive(
        self, api: ApiClient, patient: str, said: str
    ) -> None:
        written = record(api, patient, "POLG", phenotype=said)

        assert written["interpretation"] == "not interpretable"
        alerts = started(api, patient, "valproate", 500)["alerts"]
        assert "PGX-NOT-INTERPRETABLE" in rules_of(alerts)
        assert "PGX-POLG-VALPROATE" not in rules_of(alerts)

    @pytest.mark.parametrize(
        "said", ["no pathogenic variant detected", "benign", "negative", "likely benign"]
    )
    def test_a_negative_polg_result_allows_valproate(
        self, api: ApiClient, patient: str, said: str
    ) -> None:
        written = record(api, patient, "POLG", phenotype=said)
        assert written["phenotype"] == "negative"

        alerts = started(api, patient, "valproate", 500)["alerts"]

        assert pgx(alerts) == []

    @pytest.mark.parametrize(
        ("said", "phenotype"),
        [
            ("positive", "positive"),
            ("detected", "positive"),
            ("present", "positive"),
            ("carrier", "positive"),
            ("not detected", "negative"),
            ("absent", "negative"),
            ("negative", "negative"),
        ],
    )
    def test_hla_b_1502_wordings_are_read(
        self, api: ApiClient, patient: str, said: str, phenotype: str
    ) -> None:
        written = record(api, patient, "HLA-B*15:02", phenotype=said)

        assert written["phenotype"] == phenotype
        response = prescribe(api, patient, "carbamazepine", 200)
        assert (response.status_code == 422) is (phenotype == "positive")
