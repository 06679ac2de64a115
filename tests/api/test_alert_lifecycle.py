"""Alerts stay true over HTTP: every write re-runs the rules for what it touches; an open
alert whose figures changed is superseded by one with the current figures, one whose
condition no longer holds is closed by CareLog itself (the system actor) with the reason,
as events in the history and the audit trail. Change-driven alerts (a suicide-risk
answer, an abrupt stop) are not closed just because later writes do not repeat them."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

CARELOG = {"id": "carelog", "role": "system"}


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def older_patient(api: ApiClient) -> str:
    """A patient of 68: escitalopram's maximum is 10 mg/day over 65."""
    response = api.post(
        "/api/v1/patients",
        {"external_id": "MRN-68", "name": "Ola Older", "birth_date": "1958-06-01"},
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["patient_id"])


def change_dose(api: ApiClient, pid: str, oid: str, amount: float) -> dict[str, Any]:
    response = api.post(
        path(pid, f"medications/{oid}/dose-changes"),
        {"dose": {"amount": amount, "unit": "mg"}, "reason": "Clinical response"},
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def open_alerts(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    alerts: list[dict[str, Any]] = api.get(path(pid, "plan")).get_json()["alerts"]
    return alerts


def resolutions(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.get(
        path(pid, "history"), query_string={"type": "SafetyAlertResolved"}
    ).get_json()["events"]
    return events


class TestAnAlertWhoseFiguresChanged:
    def test_escitalopram_raised_again_at_68_supersedes_the_alert_with_the_current_dose(
        self, api: ApiClient
    ) -> None:
        pid = older_patient(api)
        written = prescribe(api, pid, "escitalopram", 15).get_json()
        [first] = [a for a in written["alerts"] if a["kind"] == "max_dose"]
        assert "15 mg/day exceeds the 10 mg/day maximum" in first["message"]

        answer = change_dose(api, pid, written["order_id"], 20)

        [current] = [a for a in answer["alerts"] if a["kind"] == "max_dose"]
        assert "20 mg/day exceeds the 10 mg/day maximum" in current["message"]
        [shown] = [a for a in open_alerts(api, pid) if a["kind"] == "max_dose"]
        assert shown["id"] == current["id"]
        assert "20 mg/day" in shown["message"]
        [closed] = resolutions(api, pid)
        assert closed["actor"] == CARELOG
        assert closed["data"]["alert_id"] == first["id"]
        assert closed["data"]["resolution"] == "superseded"
        assert closed["data"]["superseded_by"] == current["id"]
        assert current["id"] in closed["data"]["reason"]

    def test_a_write_that_leaves_the_figures_as_they_were_raises_nothing_new(
        self, api: ApiClient
    ) -> None:
        pid = older_patient(api)
        written = prescribe(api, pid, "escitalopram", 15).get_json()
        answer = api.post(path(pid, "labs"), {"test": "weight", "value": 70, "unit": "kg"})
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["alerts"] == []
        assert resolutions(api, pid) == []
        [max_dose] = [a for a in written["alerts"] if a["kind"] == "max_dose"]
        # besides it, only the PHQ-9 reassessment item escitalopram brings (measurement care)
        assert sorted((a["kind"], a["id"]) for a in open_alerts(api, pid)) == sorted(
            [("max_dose", max_dose["id"]), ("reassessment_due", ANY)]
        )

    def test_an_alert_a_fact_revealed_is_not_superseded_when_its_fact_note_is_not_repeated(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "bupropion", 150)
        revealed = api.post(
            path(patient, "facts"), {"fact": "alcohol_use", "value": "stopped_abruptly"}
        ).get_json()
        [alert] = [a for a in revealed["alerts"] if a["rule_id"] == "DDI-30D"]
        assert "The fact was recorded, not refused" in alert["message"]

        later = api.post(path(patient, "labs"), {"test": "weight", "value": 70, "unit": "kg"})

        assert later.get_json()["alerts"] == []
        assert alert["id"] in [a["id"] for a in open_alerts(api, patient)]

    def test_an_unrelated_write_leaves_every_open_alert_as_it_was(self, api: ApiClient) -> None:
        pid = older_patient(api)
        for drug, amount in (
            ("lithium", 600),
            ("ibuprofen", 400),
            ("olanzapine", 10),
            ("escitalopram", 20),
            ("valproate", 500),
            ("zuclopenthixol", 10),
        ):
            assert prescribe(api, pid, drug, amount).status_code == 201
        before = sorted(a["id"] for a in open_alerts(api, pid))
        closed_before = len(resolutions(api, pid))

        answer = api.post(path(pid, "goals"), {"description": "Back to work part-time"})
        assert answer.status_code == 201
        note = api.post(path(pid, "facts"), {"fact": "diet", "value": "vegetarian"})

        assert note.get_json()["alerts"] == []
        assert sorted(a["id"] for a in open_alerts(api, pid)) == before
        assert len(resolutions(api, pid)) == closed_before


class TestAnAlertWhoseConditionEnded:
    def test_a_dose_lowered_under_the_maximum_is_closed_by_carelog_with_the_reason(
        self, api: ApiClient
    ) -> None:
        pid = older_patient(api)
        written = prescribe(api, pid, "escitalopram", 15).get_json()
        [alert] = [a for a in written["alerts"] if a["kind"] == "max_dose"]

        change_dose(api, pid, written["order_id"], 10)

        assert alert["id"] not in [a["id"] for a in open_alerts(api, pid)]
        [closed] = resolutions(api, pid)
        assert closed["actor"] == CARELOG
        assert closed["data"]["resolution"] == "no_longer_applies"
        reason = closed["data"]["reason"]
        assert reason.startswith("Condition no longer holds")
        assert "escitalopram" in reason
        assert "10 mg" in reason
        assert "today" not in reason.lower()

    def test_stopping_the_interacting_drug_closes_the_interaction_alert(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient, "lithium", 600)
        nsaid = prescribe(api, patient, "ibuprofen", 400).get_json()
        [alert] = [a for a in nsaid["alerts"] if a["kind"] == "interaction"]

        stopped = api.post(
            path(patient, f"medications/{nsaid['order_id']}/discontinuation"),
            {"reason": "Pain settled"},
        )
        assert stopped.status_code == 201, stopped.get_json()

        assert alert["id"] not in [a["id"] for a in open_alerts(api, patient)]
        [closed] = [e for e in resolutions(api, patient) if e["data"]["alert_id"] == alert["id"]]
        assert closed["actor"] == CARELOG
        assert "ibuprofen was discontinued" in closed["data"]["reason"]

    def test_the_audit_trail_shows_carelog_closing_it(self, api: ApiClient) -> None:
        pid = older_patient(api)
        written = prescribe(api, pid, "escitalopram", 15).get_json()
        change_dose(api, pid, written["order_id"], 10)
        api.catch_up()

        entries = api.get(path(pid, "audit"), query_string={"limit": 500}).get_json()["entries"]

        [entry] = [e for e in entries if e["action"] == "SafetyAlertResolved"]
        assert entry["actor"] == CARELOG
        assert entry["details"]["resolution"] == "no_longer_applies"


class TestChangeDrivenAlertsStayOpen:
    def test_a_suicide_risk_alert_is_not_closed_by_a_later_write(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            path(patient, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [1] * 8 + [1]},
            as_="therapist",
        )
        [alert] = [a for a in response.get_json()["alerts"] if a["kind"] == "suicide_risk"]
        api.post(
            path(patient, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [1] * 8 + [0]},
            as_="therapist",
        )
        prescribe(api, patient, "sertraline", 50)

        assert alert["id"] in [a["id"] for a in open_alerts(api, patient)]
        assert resolutions(api, patient) == []


class TestTheViewsReplayTheNewResolutions:
    def test_the_dashboard_and_plan_view_rebuilt_from_the_log_agree(self, api: ApiClient) -> None:
        pid = older_patient(api)
        written = prescribe(api, pid, "escitalopram", 15).get_json()
        change_dose(api, pid, written["order_id"], 20)
        change_dose(api, pid, written["order_id"], 10)
        api.catch_up()
        for view in ("team_dashboard", "current_plan", "audit_trail"):
            api.carelog.views.rebuild(view, progress=False)  # from zero, through them

        board = api.get("/api/v1/dashboard").get_json()
        [row] = [p for p in board["patients"] if p["patient_id"] == pid]
        assert row["open_alerts"] == 1  # the PHQ-9 reassessment item (measurement care)
        assert [a for a in open_alerts(api, pid) if a["kind"] == "max_dose"] == []
