"""The problem list and the person over HTTP: conditions recorded (ICD-10-CM) and resolved,
assessment diagnoses on the list, sex at birth and pregnancy status; their validation
(422 with field errors, 404 for an unknown condition), who may write them, their place in
the plan, the history and the audit trail, and the write conventions (If-Match,
Idempotency-Key)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, problem_naming

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def record(
    api: ApiClient, pid: str, code: str = "F50.2", as_: str = "psychiatrist", **kw: Any
) -> Any:
    body = {"code": code, "display": kw.pop("display", "Bulimia nervosa"), **kw}
    return api.post(path(pid, "conditions"), body, as_=as_)


def plan(api: ApiClient, pid: str) -> dict[str, Any]:
    response = api.get(path(pid, "plan"))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def history(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    response = api.get(path(pid, "history"), query_string={"limit": 500})
    assert response.status_code == 200, response.get_json()
    events: list[dict[str, Any]] = response.get_json()["events"]
    return events


class TestRecordingAConditionPutsItOnTheProblemList:
    def test_it_answers_201_with_the_condition_id_and_the_plan_lists_it(
        self, api: ApiClient, patient: str
    ) -> None:
        response = record(api, patient, "g40.909", display="Epilepsy", onset_date="2010-05-01")

        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["condition_id"]
        assert body["alerts"] == []
        assert response.headers["ETag"] == f'"{body["version"]}"'
        [listed] = plan(api, patient)["conditions"]
        assert listed["condition_id"] == body["condition_id"]
        assert listed["code"] == "G40.909"  # normalised to upper case
        assert listed["display"] == "Epilepsy"
        assert listed["onset_date"] == "2010-05-01"
        assert listed["verification_status"] == "confirmed"
        assert listed["source"] == "recorded"

    def test_it_appears_in_the_history_and_the_audit_trail(
        self, api: ApiClient, patient: str
    ) -> None:
        condition_id = record(api, patient).get_json()["condition_id"]

        [event] = [e for e in history(api, patient) if e["type"] == "ConditionRecorded"]
        assert event["data"]["condition_id"] == condition_id
        assert event["data"]["code"] == "F50.2"
        api.catch_up()
        audit = api.get(path(patient, "audit")).get_json()["entries"]
        assert "ConditionRecorded" in [e["action"] for e in audit]

    def test_a_therapist_and_a_pharmacist_may_record_one(
        self, api: ApiClient, patient: str
    ) -> None:
        assert record(api, patient, "F50.2", as_="therapist").status_code == 201
        assert record(api, patient, "G40.909", as_="pharmacist").status_code == 201
        assert len(plan(api, patient)["conditions"]) == 2

    def test_an_auditor_may_not(self, api: ApiClient, patient: str) -> None:
        response = record(api, patient, as_="auditor")
        assert response.status_code == 403
        assert plan(api, patient)["conditions"] == []

    def test_if_match_on_an_old_version_is_412_and_writes_nothing(
        self, api: ApiClient, patient: str
    ) -> None:
        version = plan(api, patient)["version"]
        record(api, patient, "F50.2")
        stale = api.post(
            path(patient, "conditions"),
            {"code": "G40.909", "display": "Epilepsy"},
            headers={"If-Match": f'"{version}"'},
        )
        assert stale.status_code == 412
        assert [c["code"] for c in plan(api, patient)["conditions"]] == ["F50.2"]

    def test_a_repeat_with_the_same_idempotency_key_records_it_once(
        self, api: ApiClient, patient: str
    ) -> None:
        body = {"code": "F50.2", "display": "Bulimia nervosa"}
        headers = {"Idempotency-Key": "cond-1"}
        first = api.post(path(patient, "conditions"), body, headers=headers)
        again = api.post(path(patient, "conditions"), body, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.get_json() == first.get_json()
        assert len(plan(api, patient)["conditions"]) == 1


class TestBadConditionsAreRefusedWithFieldErrors:
    @pytest.mark.parametrize("code", ["F32-1", "32.1", "U07.1", "F32.12345", "bulimia", " "])
    def test_a_code_that_is_not_icd_10_cm_is_422_naming_code(
        self, api: ApiClient, patient: str, code: str
    ) -> None:
        response = record(api, patient, code)
        assert response.status_code == 422, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert "code" in response.get_json()["errors"]

    def test_an_unknown_verification_status_is_422(self, api: ApiClient, patient: str) -> None:
        response = record(api, patient, verification_status="maybe")
        problem_naming(response, 422, "verification_status")

    @pytest.mark.parametrize("onset", ["2999-01-01", "1901-01-01", "yesterday"])
    def test_an_onset_in_the_future_before_birth_or_not_a_date_is_422(
        self, api: ApiClient, patient: str, onset: str
    ) -> None:
        response = record(api, patient, onset_date=onset)
        problem_naming(response, 422, "onset_date")

    def test_a_code_already_on_the_list_is_422(self, api: ApiClient, patient: str) -> None:
        record(api, patient, "F50.2")
        response = record(api, patient, "f50.2")
        assert response.status_code == 422
        assert "already" in response.get_json()["errors"]["code"][0]

    def test_a_blank_display_is_422(self, api: ApiClient, patient: str) -> None:
        response = record(api, patient, display="  ")
        problem_naming(response, 422, "display")

    def test_without_a_display_the_code_names_it(self, api: ApiClient, patient: str) -> None:
        response = api.post(path(patient, "conditions"), {"code": "F50.2"})
        assert response.status_code == 201, response.get_json()
        assert plan(api, patient)["conditions"][0]["display"] == "ICD-10-CM F50.2"


class TestResolvingACondition:
    def resolve(
        self, api: ApiClient, pid: str, cid: str, as_: str = "psychiatrist", **kw: Any
    ) -> Any:
        body = {"reason": "In remission for two years", **kw}
        return api.post(path(pid, f"conditions/{cid}/resolution"), body, as_=as_)

    def test_it_takes_it_off_the_problem_list_and_keeps_it_in_the_history(
        self, api: ApiClient, patient: str
    ) -> None:
        cid = record(api, patient).get_json()["condition_id"]

        response = self.resolve(api, patient, cid, resolved_date="2026-01-05")

        assert response.status_code == 201, response.get_json()
        assert plan(api, patient)["conditions"] == []
        [event] = [e for e in history(api, patient) if e["type"] == "ConditionResolved"]
        assert event["data"]["condition_id"] == cid
        assert event["data"]["resolved_date"] == "2026-01-05"
        api.catch_up()
        audit = api.get(path(patient, "audit")).get_json()["entries"]
        assert "ConditionResolved" in [e["action"] for e in audit]

    def test_an_unknown_condition_is_404_naming_condition_id(
        self, api: ApiClient, patient: str
    ) -> None:
        response = self.resolve(api, patient, "no-such-condition")
        problem_naming(response, 404, "condition_id")

    def test_resolving_twice_is_422(self, api: ApiClient, patient: str) -> None:
        cid = record(api, patient).get_json()["condition_id"]
        self.resolve(api, patient, cid)
        response = self.resolve(api, patient, cid)
        assert response.status_code == 422
        assert "resolved already" in response.get_json()["errors"]["condition_id"][0]

    def test_a_blank_reason_is_refused_naming_reason(self, api: ApiClient, patient: str) -> None:
        cid = record(api, patient).get_json()["condition_id"]
        response = self.resolve(api, patient, cid, reason="   ")
        problem_naming(response, 422, "reason")
        assert len(plan(api, patient)["conditions"]) == 1

    def test_a_resolution_before_the_onset_is_422(self, api: ApiClient, patient: str) -> None:
        cid = record(api, patient, onset_date="2020-01-01").get_json()["condition_id"]
        response = self.resolve(api, patient, cid, resolved_date="2019-01-01")
        problem_naming(response, 422, "resolved_date")

    def test_a_therapist_may_resolve_but_a_pharmacist_may_not(
        self, api: ApiClient, patient: str
    ) -> None:
        cid = record(api, patient).get_json()["condition_id"]
        assert self.resolve(api, patient, cid, as_="pharmacist").status_code == 403
        assert self.resolve(api, patient, cid, as_="prescribing_pharmacist").status_code == 403
        assert self.resolve(api, patient, cid, as_="therapist").status_code == 201


class TestAssessmentDiagnosesFeedTheProblemList:
    def assess(self, api: ApiClient, pid: str, *codes: str) -> Any:
        body = {"instrument": "clinical", "diagnoses": list(codes), "summary": "assessment"}
        response = api.post(path(pid, "assessments"), body)
        assert response.status_code == 201, response.get_json()
        return response

    def test_a_diagnosis_is_listed_once_by_code(self, api: ApiClient, patient: str) -> None:
        self.assess(api, patient, "F50.2", "F32.1")
        self.assess(api, patient, "F50.2")

        listed = plan(api, patient)["conditions"]
        assert sorted((c["code"], c["source"], c["condition_id"]) for c in listed) == [
            ("F32.1", "assessment", "dx:F32.1"),
            ("F50.2", "assessment", "dx:F50.2"),
        ]

    def test_a_code_also_recorded_is_listed_as_the_recorded_condition(
        self, api: ApiClient, patient: str
    ) -> None:
        self.assess(api, patient, "F50.2")
        record(api, patient, "F50.2")
        [listed] = plan(api, patient)["conditions"]
        assert listed["source"] == "recorded"

    def test_resolving_a_diagnosis_takes_it_off_until_diagnosed_again(
        self, api: ApiClient, patient: str
    ) -> None:
        self.assess(api, patient, "F50.2")
        response = api.post(
            path(patient, "conditions/dx:F50.2/resolution"), {"reason": "Recovered"}
        )
        assert response.status_code == 201, response.get_json()
        assert plan(api, patient)["conditions"] == []

        self.assess(api, patient, "F50.2")
        assert [c["code"] for c in plan(api, patient)["conditions"]] == ["F50.2"]


class TestPregnancyStatusAndSexAtBirth:
    def status(self, api: ApiClient, pid: str, as_: str = "psychiatrist", **body: Any) -> Any:
        return api.post(path(pid, "pregnancy-status"), body, as_=as_)

    def test_the_plan_shows_the_latest_status(self, api: ApiClient, patient: str) -> None:
        response = self.status(
            api, patient, status="pregnant", as_of="2026-11-01", expected_delivery_date="2027-05-20"
        )
        assert response.status_code == 201, response.get_json()
        shown = plan(api, patient)["pregnancy"]
        assert (shown["status"], shown["as_of"], shown["expected_delivery_date"]) == (
            "pregnant",
            "2026-11-01",
            "2027-05-20",
        )
        self.status(api, patient, status="lactating", as_="pharmacist")
        assert plan(api, patient)["pregnancy"]["status"] == "lactating"

    def test_no_status_recorded_is_null_in_the_plan(self, api: ApiClient, patient: str) -> None:
        assert plan(api, patient)["pregnancy"] is None

    def test_an_unknown_status_is_422_naming_status(self, api: ApiClient, patient: str) -> None:
        response = self.status(api, patient, status="expecting")
        problem_naming(response, 422, "status")

    def test_a_delivery_date_without_a_pregnancy_is_422(self, api: ApiClient, patient: str) -> None:
        response = self.status(
            api, patient, status="not_pregnant", expected_delivery_date="2027-05-01"
        )
        problem_naming(response, 422, "expected_delivery_date")

    def test_a_delivery_date_years_away_is_422(self, api: ApiClient, patient: str) -> None:
        response = self.status(
            api, patient, status="pregnant", as_of="2026-11-01", expected_delivery_date="2029-01-01"
        )
        problem_naming(response, 422, "expected_delivery_date")

    def test_an_auditor_may_not_record_it(self, api: ApiClient, patient: str) -> None:
        assert self.status(api, patient, status="pregnant", as_="auditor").status_code == 403

    def test_sex_at_birth_is_recorded_and_shown(self, api: ApiClient, patient: str) -> None:
        response = api.post(path(patient, "sex-at-birth"), {"sex_at_birth": "female"})
        assert response.status_code == 201, response.get_json()
        assert plan(api, patient)["patient"]["sex_at_birth"] == "female"
        assert "SexAtBirthRecorded" in [e["type"] for e in history(api, patient)]

    def test_an_unknown_sex_at_birth_is_422(self, api: ApiClient, patient: str) -> None:
        response = api.post(path(patient, "sex-at-birth"), {"sex_at_birth": "f"})
        problem_naming(response, 422, "sex_at_birth")

    def test_sex_at_birth_may_be_given_at_registration(self, api: ApiClient) -> None:
        response = api.post(
            "/api/v1/patients",
            {
                "external_id": "MRN-SEX-1",
                "name": "Api Patient",
                "birth_date": "1990-02-03",
                "sex_at_birth": "female",
            },
        )
        assert response.status_code == 201, response.get_json()
        pid = response.get_json()["patient_id"]
        assert plan(api, pid)["patient"]["sex_at_birth"] == "female"
