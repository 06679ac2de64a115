"""``GET /api/v1/outcomes``: response and remission by drug class over the caller's
patients, with any class of fewer than 5 patients suppressed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import ApiClient, register_patient
from tests.api.test_trials import phq9, start

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def treated(api: ApiClient, n: int, drug: str, baseline: int, latest: int) -> list[str]:
    """``n`` patients, each with a baseline PHQ-9, ``drug`` started 70 days ago and a
    PHQ-9 of ``latest`` 8 weeks into it."""
    pids = []
    for _ in range(n):
        pid = register_patient(api, f"MRN-OUT-{uuid.uuid4().hex[:8]}")
        phq9(api, pid, baseline, at=75)
        start(api, pid, drug, 50 if drug == "sertraline" else 60, at=70)
        phq9(api, pid, latest, at=14)
        pids.append(pid)
    return pids


def outcomes(api: ApiClient, as_: str = "psychiatrist") -> dict[str, Any]:
    api.catch_up()
    r = api.get("/api/v1/outcomes", as_=as_)
    assert r.status_code == 200, r.get_json()
    body: dict[str, Any] = r.get_json()
    return body


def cell(body: dict[str, Any], drug_class: str) -> dict[str, Any]:
    [found] = [c for c in body["classes"] if c["drug_class"] == drug_class]
    return found


class TestSmallCellsAreSuppressed:
    def test_a_class_with_four_patients_shows_no_figures(self, api: ApiClient) -> None:
        treated(api, 4, "sertraline", 20, 8)
        ssri = cell(outcomes(api), "SSRI")
        assert ssri["suppressed"] is True
        assert (ssri["patients"], ssri["trials"], ssri["response_rate"]) == (None, None, None)
        assert ssri["median_weeks_to_response"] is None

    def test_a_class_with_five_patients_shows_rates_and_the_trials_behind_them(
        self, api: ApiClient
    ) -> None:
        treated(api, 3, "sertraline", 20, 8)  # response
        treated(api, 2, "sertraline", 20, 3)  # remission
        treated(api, 2, "duloxetine", 20, 3)  # SNRI: two patients only

        body = outcomes(api)
        ssri = cell(body, "SSRI")

        assert body["minimum_patients"] == 5
        assert ssri["suppressed"] is False
        assert (ssri["patients"], ssri["trials"], ssri["judged_trials"]) == (5, 5, 5)
        assert (ssri["response_rate"], ssri["remission_rate"]) == (100.0, 40.0)
        assert 7.9 <= ssri["median_weeks_to_response"] <= 8.1
        assert cell(body, "SNRI")["suppressed"] is True


class TestOnlyTheCallersPatients:
    def test_a_clinician_on_no_care_team_sees_no_classes_and_reads_nobody(
        self, api: ApiClient
    ) -> None:
        treated(api, 5, "sertraline", 20, 8)
        assert outcomes(api, as_="outsider")["classes"] == []
        rows = api.carelog.db.query(
            "SELECT * FROM access_log WHERE what = 'outcomes' AND actor_id = ?",
            (api.team.outsider.id,),
        )
        assert rows == []

    def test_each_patient_counted_is_recorded_as_read(self, api: ApiClient) -> None:
        pids = treated(api, 5, "sertraline", 20, 8)
        api.catch_up()
        api.get("/api/v1/outcomes", headers={"X-Request-ID": "req-outcomes"})
        rows = api.carelog.db.query(
            # the client's X-Request-ID is kept beside CareLog's own request id
            "SELECT patient_id, what FROM access_log WHERE details LIKE ?",
            ('%"client_request_id": "req-outcomes"%',),
        )
        assert sorted(r["patient_id"] for r in rows) == sorted(pids)
        assert {r["what"] for r in rows} == {"outcomes"}

    def test_an_auditor_may_not_read_team_outcomes(self, api: ApiClient) -> None:
        assert api.get("/api/v1/outcomes", as_="auditor").status_code == 403
