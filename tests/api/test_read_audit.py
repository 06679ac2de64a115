"""Every read of patient data leaves exactly one access entry; so does every denial."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient


def access_entries(api: ApiClient, request_id: str) -> list[dict[str, Any]]:
    rows = api.carelog.db.query("SELECT * FROM access_log WHERE request_id = ?", (request_id,))
    return rows


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
