"""Every read of patient data leaves exactly one access entry; so does every denial."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, register_patient


def access_entries(api: ApiClient, client_request_id: str) -> list[dict[str, Any]]:
    """The entries of the request the client sent as ``X-Request-ID: client_request_id``
    (kept in the entry's details, beside CareLog's own request id)."""
    rows = api.carelog.db.query(
        "SELECT * FROM access_log WHERE details LIKE ?",
        (f'%"client_request_id": "{client_request_id}"%',),
    )
    return rows


def assert_one_allowed_read(
    api: ApiClient, client_request_id: str, expected: tuple[str, str, str]
) -> None:
    """The request left exactly one entry, allowed, with this (actor, patient, what)."""
    rows = access_entries(api, client_request_id)
    assert [(r["actor_id"], r["patient_id"], r["what"]) for r in rows] == [expected]
    assert bool(rows[0]["allowed"]) is True


class TestReadAudit:
    @pytest.mark.parametrize("what", ["plan", "history", "audit"])
    def test_a_read_records_one_entry_with_actor_and_patient(
        self, api: ApiClient, patient: str, what: str
    ) -> None:
        api.catch_up()
        response = api.get(
            f"/api/v1/patients/{patient}/{what}",
            as_="pharmacist",
            headers={"X-Request-ID": f"req-{what}"},
        )
        assert response.status_code == 200
        rows = access_entries(api, f"req-{what}")
        assert len(rows) == 1
        assert rows[0]["actor_id"] == api.team.pharmacist.id
        assert rows[0]["patient_id"] == patient
        assert bool(rows[0]["allowed"]) is True

    def test_a_denied_read_records_one_entry(self, api: ApiClient, patient: str) -> None:
        response = api.get(
            f"/api/v1/patients/{patient}/plan",
            as_="outsider",
            headers={"X-Request-ID": "req-denied"},
        )
        assert response.status_code == 403
        rows = access_entries(api, "req-denied")
        assert len(rows) == 1
        assert bool(rows[0]["allowed"]) is False
        assert rows[0]["actor_id"] == api.team.outsider.id

    def test_a_bad_token_for_a_known_user_is_recorded(self, api: ApiClient, patient: str) -> None:
        staff_id = api.team.psychiatrist.id
        response = api.client.get(
            f"/api/v1/patients/{patient}/plan",
            headers={"Authorization": f"Bearer {staff_id}.wrong", "X-Request-ID": "req-401"},
        )
        assert response.status_code == 401
        rows = access_entries(api, "req-401")
        assert len(rows) == 1
        assert bool(rows[0]["allowed"]) is False


class TestListReadsAreRecorded:
    """The dashboard, the patient list and the feed show patient data: one entry per
    patient shown (per message, for the feed), with the caller and the patient."""

    def test_a_dashboard_read_records_the_patient_shown(self, api: ApiClient, patient: str) -> None:
        api.catch_up()
        response = api.get("/api/v1/dashboard", headers={"X-Request-ID": "req-dashboard"})
        assert response.status_code == 200
        assert [p["patient_id"] for p in response.get_json()["patients"]] == [patient]
        assert_one_allowed_read(
            api, "req-dashboard", (api.team.psychiatrist.id, patient, "dashboard")
        )

    def test_a_patient_list_read_records_the_patient_shown(
        self, api: ApiClient, patient: str
    ) -> None:
        api.catch_up()
        response = api.get(
            "/api/v1/patients", as_="therapist", headers={"X-Request-ID": "req-patients"}
        )
        assert response.status_code == 200
        assert_one_allowed_read(api, "req-patients", (api.team.therapist.id, patient, "patients"))

    def test_a_feed_page_records_one_entry_per_patient_naming_every_message(
        self, api: ApiClient, patient: str
    ) -> None:
        other = register_patient(api, "MRN-FEED-2")
        prescribe(api, patient)
        prescribe(api, other)
        api.catch_up()
        response = api.get("/api/v1/feed", as_="pharmacist", headers={"X-Request-ID": "req-feed"})
        items = response.get_json()["items"]
        assert response.status_code == 200
        assert items
        rows = access_entries(api, "req-feed")
        assert sorted((r["actor_id"], r["patient_id"], r["what"]) for r in rows) == sorted(
            (api.team.pharmacist.id, pid, "feed") for pid in {patient, other}
        )
        assert all(bool(r["allowed"]) for r in rows)
        for row in rows:
            details = (
                row["details"] if isinstance(row["details"], dict) else json.loads(row["details"])
            )
            mine = [i for i in items if i["subject"] == row["patient_id"]]
            assert details["messages"] == len(mine)
            assert details["positions"] == [i["data"]["position"] for i in mine]
            assert sum(details["types"].values()) == len(mine)

    def test_an_empty_list_records_nothing(self, api: ApiClient, patient: str) -> None:
        api.catch_up()
        response = api.get("/api/v1/dashboard", as_="outsider", headers={"X-Request-ID": "req-x"})
        assert response.get_json()["patients"] == []
        assert access_entries(api, "req-x") == []

    def test_a_denied_list_read_is_recorded_as_denied(self, api: ApiClient) -> None:
        response = api.get("/api/v1/dashboard", as_="admin", headers={"X-Request-ID": "req-no"})
        assert response.status_code == 403
        rows = access_entries(api, "req-no")
        assert len(rows) == 1
        assert bool(rows[0]["allowed"]) is False
        assert rows[0]["actor_id"] == api.team.admin.id


class TestOnlyReadsThatShowDataAreRecordedAsAllowed:
    """A read that ends in 404, 400 or 503 showed nothing: no allowed entry for it."""

    @pytest.mark.parametrize("what", ["plan", "history", "audit"])
    def test_a_read_not_ready_is_503_and_records_no_read(
        self, api: ApiClient, patient: str, what: str
    ) -> None:
        pending = api.post(  # a write the views (run here only when asked) have not reached
            f"/api/v1/patients/{patient}/assessments",
            {"instrument": "PHQ-9", "item_scores": [0] * 9},
        ).get_json()["position"]
        response = api.get(
            f"/api/v1/patients/{patient}/{what}",
            query_string={"min_position": pending},
            headers={"X-Request-ID": f"req-503-{what}"},
        )
        assert response.status_code == 503
        assert access_entries(api, f"req-503-{what}") == []

    @pytest.mark.parametrize(
        ("what", "query", "status"),
        [
            ("plan", {"as_of": "2001-01-01T00:00:00Z"}, 404),  # before registration
            ("history", {"cursor": "abc"}, 400),  # a bad cursor
        ],
        ids=["plan-before-registration-404", "history-bad-cursor-400"],
    )
    def test_a_read_refused_for_its_query_records_no_read(
        self, api: ApiClient, patient: str, what: str, query: dict[str, str], status: int
    ) -> None:
        response = api.get(
            f"/api/v1/patients/{patient}/{what}",
            query_string=query,
            headers={"X-Request-ID": f"req-{status}"},
        )
        assert response.status_code == status
        assert access_entries(api, f"req-{status}") == []

    def test_a_denied_attempt_that_would_wait_is_still_recorded_as_denied(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.get(
            f"/api/v1/patients/{patient}/plan",
            as_="outsider",
            query_string={"min_position": 10**9},
            headers={"X-Request-ID": "req-denied-wait"},
        )
        assert response.status_code == 403
        rows = access_entries(api, "req-denied-wait")
        assert len(rows) == 1
        assert bool(rows[0]["allowed"]) is False

    def test_a_plan_read_with_as_of_records_one_read(self, api: ApiClient, patient: str) -> None:
        response = api.get(
            f"/api/v1/patients/{patient}/plan",
            query_string={"as_of": "2999-01-01T00:00:00Z"},
            headers={"X-Request-ID": "req-as-of"},
        )
        assert response.status_code == 200
        rows = access_entries(api, "req-as-of")
        assert [(r["patient_id"], r["what"], bool(r["allowed"])) for r in rows] == [
            (patient, "plan", True)
        ]


class TestRequestIds:
    """The audit's request id is always CareLog's: a client could otherwise give its request
    another request's id, or one that hides it among others. Its own id is kept beside."""

    def test_the_audit_names_carelogs_id_and_keeps_the_clients_beside_it(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.get(
            f"/api/v1/patients/{patient}/plan", headers={"X-Request-ID": "client-abc-1"}
        )
        assert response.status_code == 200
        ours = response.headers["X-Request-ID"]
        assert ours != "client-abc-1"
        rows = api.carelog.db.query("SELECT * FROM access_log WHERE request_id = ?", (ours,))
        assert len(rows) == 1
        assert json.loads(rows[0]["details"])["client_request_id"] == "client-abc-1"
        assert (
            api.carelog.db.query("SELECT * FROM access_log WHERE request_id = ?", ("client-abc-1",))
            == []
        )

    def test_two_requests_naming_the_same_id_stay_apart(self, api: ApiClient, patient: str) -> None:
        first = api.get(f"/api/v1/patients/{patient}/plan", headers={"X-Request-ID": "same"})
        second = api.get(f"/api/v1/patients/{patient}/plan", headers={"X-Request-ID": "same"})
        assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
        assert len(access_entries(api, "same")) == 2

    @pytest.mark.parametrize("given", ["x" * 129, "has space", "semi;colon", "é"])
    def test_an_implausible_client_id_is_not_kept(
        self, api: ApiClient, patient: str, given: str
    ) -> None:
        response = api.get(f"/api/v1/patients/{patient}/plan", headers={"X-Request-ID": given})
        assert response.status_code == 200
        ours = response.headers["X-Request-ID"]
        rows = api.carelog.db.query("SELECT * FROM access_log WHERE request_id = ?", (ours,))
        assert "client_request_id" not in json.loads(rows[0]["details"] or "{}")

    def test_a_write_is_correlated_under_carelogs_id(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "progress", "modality": "CBT", "text": "x"},
            headers={"X-Request-ID": "client-write-1"},
        )
        assert response.status_code == 201
        events = api.get(f"/api/v1/patients/{patient}/history").get_json()["events"]
        ids = {e.get("correlation_id") for e in events}
        assert "client-write-1" not in ids
        assert response.headers["X-Request-ID"] in ids
