"""Values at the calendar's and the number line's edges, over HTTP: each is a 422 naming
its field, never a 500 and never accepted (red-team findings F3, F9, F10, F14)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.get_json()
    errors: dict[str, list[str]] = response.get_json()["errors"]
    assert field in errors, errors
    return " ".join(errors[field])


class TestDatesAtTheCalendarsEdge:
    def test_an_expected_delivery_date_near_9999_is_422_not_500(
        self, api: ApiClient, patient: str
    ) -> None:
        for edd in ("9999-12-20", "9999-12-31", "0001-01-01"):
            body = {"status": "pregnant", "expected_delivery_date": edd}
            refused(api.post(path(patient, "pregnancy-status"), body), "expected_delivery_date")

    def test_a_follow_up_due_after_2100_is_422_saying_so(
        self, api: ApiClient, patient: str
    ) -> None:
        for due in ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "2101-01-01T00:00:00Z"):
            body = {"due_at": due, "purpose": "check-in"}
            message = refused(api.post(path(patient, "follow-ups"), body), "due_at")
            assert "1900" not in message
            assert "2100" in message

    def test_a_follow_up_due_in_2099_is_accepted(self, api: ApiClient, patient: str) -> None:
        body = {"due_at": "2099-01-01T00:00:00Z", "purpose": "check-in"}
        assert api.post(path(patient, "follow-ups"), body).status_code == 201

    def test_a_goal_due_after_2100_is_422(self, api: ApiClient, patient: str) -> None:
        body = {"description": "Back to work", "due_date": "9999-12-31"}
        assert "2100" in refused(api.post(path(patient, "goals"), body), "due_date")

    def test_a_corrected_goal_due_date_after_2100_is_422(
        self, api: ApiClient, patient: str
    ) -> None:
        goal = api.post(path(patient, "goals"), {"description": "Back to work"}).get_json()
        body = {"event_id": goal["event_id"], "fields": {"due_date": "9999-12-31"}, "reason": "x"}
        refused(api.post(path(patient, "corrections"), body), "fields.due_date")


class TestABirthDateCorrectedAfterTheRecord:
    def registration(self, api: ApiClient, pid: str) -> str:
        [event] = api.get(
            path(pid, "history"), query_string={"type": "PatientRegistered"}
        ).get_json()["events"]
        event_id: str = event["id"]
        return event_id

    def test_a_birth_date_after_an_existing_entry_is_422_naming_fields_birth_date(
        self, api: ApiClient, patient: str
    ) -> None:
        lab = {"test": "weight", "value": 70, "unit": "kg", "effective_at": "2000-05-01T00:00:00Z"}
        assert api.post(path(patient, "labs"), lab).status_code == 201
        body = {
            "event_id": self.registration(api, patient),
            "fields": {"birth_date": "2001-01-01"},
            "reason": "Typo",
        }
        assert "earliest" in refused(
            api.post(path(patient, "corrections"), body), "fields.birth_date"
        )

    def test_a_birth_date_before_every_entry_is_accepted(
        self, api: ApiClient, patient: str
    ) -> None:
        body = {
            "event_id": self.registration(api, patient),
            "fields": {"birth_date": "1981-02-03"},
            "reason": "Typo",
        }
        assert api.post(path(patient, "corrections"), body).status_code == 201


class TestImplausibleNumbersAndLengths:
    def test_a_lab_value_beyond_ten_million_is_422_naming_value(
        self, api: ApiClient, patient: str
    ) -> None:
        for value in (1e11, -1e11):
            lab = {"test": "sodium", "value": value, "unit": "mmol/L"}
            refused(api.post(path(patient, "labs"), lab), "value")
        lab = {"test": "sodium", "value": 140, "unit": "mmol/L"}
        assert api.post(path(patient, "labs"), lab).status_code == 201

    def test_a_corrected_lab_value_beyond_ten_million_is_422(
        self, api: ApiClient, patient: str
    ) -> None:
        lab = api.post(path(patient, "labs"), {"test": "sodium", "value": 140, "unit": "mmol/L"})
        body = {"event_id": lab.get_json()["event_id"], "fields": {"value": 1e11}, "reason": "x"}
        refused(api.post(path(patient, "corrections"), body), "fields.value")

    def test_a_dose_of_1e_300_mg_is_422_naming_dose_amount(
        self, api: ApiClient, patient: str
    ) -> None:
        assert "small" in refused(prescribe(api, patient, amount=1e-300), "dose.amount")

    def test_a_patient_name_longer_than_500_is_refused_naming_name(self, api: ApiClient) -> None:
        body = {"external_id": "MRN-LONG", "name": "x" * 100_000, "birth_date": "1980-01-01"}
        response = api.post("/api/v1/patients", body)
        assert response.status_code == 400  # a malformed length, like every schema length
        assert "name" in response.get_json()["errors"]

    def test_a_corrected_name_longer_than_500_is_422(self, api: ApiClient, patient: str) -> None:
        [event] = api.get(
            path(patient, "history"), query_string={"type": "PatientRegistered"}
        ).get_json()["events"]
        body = {"event_id": event["id"], "fields": {"name": "x" * 600}, "reason": "x"}
        refused(api.post(path(patient, "corrections"), body), "fields.name")
