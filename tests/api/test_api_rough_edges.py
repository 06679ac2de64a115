"""The API's rough edges a newcomer met in the first hour, each answered as the contract
says: ETags on reads that If-Match accepts, the history under the effective clock, a plan
viewed in the past judged at that moment, and refusals that say how to fix the request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from tests.api.conftest import ApiClient, prescribe


def path(pid: str, *rest: str) -> str:
    return "/".join((f"/api/v1/patients/{pid}", *rest))


def refused_query(api: ApiClient, url: str, parameter: str, as_: str = "psychiatrist") -> Any:
    """The messages of a 400 that names the query parameter it refused."""
    response = api.get(url, as_=as_)
    assert response.status_code == 400
    return response.get_json()["errors"][parameter]


def phq9(
    api: ApiClient, pid: str, items: list[int], headers: dict[str, str] | None = None, **extra: Any
) -> Any:
    body = {"instrument": "PHQ-9", "item_scores": items, **extra}
    return api.post(path(pid, "assessments"), body, headers=headers)


class TestReadsCarryAnETag:
    def test_the_plans_etag_is_its_version_and_if_match_accepts_it(
        self, api: ApiClient, patient: str
    ) -> None:
        read = api.get(path(patient, "plan"))
        assert read.headers["ETag"] == f'"{read.get_json()["version"]}"'
        written = phq9(api, patient, [1] * 9, headers={"If-Match": read.headers["ETag"]})
        assert written.status_code == 201, written.get_json()
        stale = phq9(api, patient, [1] * 9, headers={"If-Match": read.headers["ETag"]})
        assert stale.status_code == 412

    def test_the_historys_etag_is_the_records_version(self, api: ApiClient, patient: str) -> None:
        version = phq9(api, patient, [0] * 9).get_json()["version"]
        assert api.get(path(patient, "history")).headers["ETag"] == f'"{version}"'


class TestHistoryUnderTheEffectiveClock:
    def test_a_late_entry_takes_its_clinical_place(self, api: ApiClient, patient: str) -> None:
        phq9(api, patient, [1] * 9)
        earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
        phq9(api, patient, [2] * 9, effective_at=earlier)
        by = {}
        for clock in ("recorded", "effective"):
            events = api.get(path(patient, "history") + f"?clock={clock}").get_json()["events"]
            by[clock] = [
                e["data"].get("total") for e in events if e["type"] == "AssessmentRecorded"
            ]
        assert by["recorded"] == [9, 18]
        assert by["effective"] == [18, 9]

    def test_pages_under_the_effective_clock_follow_each_other(
        self, api: ApiClient, patient: str
    ) -> None:
        for days in (5, 1, 3):
            when = (datetime.now(UTC) - timedelta(days=days)).isoformat()
            phq9(api, patient, [days] * 9 if days <= 3 else [3] * 9, effective_at=when)
        url = path(patient, "history") + "?clock=effective&type=AssessmentRecorded&limit=2"
        first = api.get(url).get_json()
        second = api.get(url + f"&cursor={first['next_cursor']}").get_json()
        times = [e["effective_at"] for e in first["events"] + second["events"]]
        assert len(times) == 3
        assert times == sorted(times)
        assert second["next_cursor"] is None

    @pytest.mark.store_independent
    def test_an_unknown_clock_is_refused_naming_the_valid_ones(
        self, api: ApiClient, patient: str
    ) -> None:
        messages = refused_query(api, path(patient, "history") + "?clock=wallclock", "clock")
        assert "recorded" in str(messages)


class TestAPlanViewedInThePast:
    def test_a_follow_up_is_overdue_only_after_its_due_time_as_viewed(self, api: ApiClient) -> None:
        """Registered and scheduled ten days ago, due five days ago: overdue now, not as
        known a week ago (the views before this answered "overdue" against today)."""
        now = datetime.now(UTC)
        ctx = CommandContext(actor=api.team.psychiatrist, now=now - timedelta(days=10))
        commands = api.carelog.commands
        patient = commands.register_patient(
            ctx,
            c.RegisterPatient(
                external_id="MRN-PAST-1",
                name="Past Patient",
                birth_date=date.fromisoformat("1980-02-03"),
            ),
        ).patient_id
        commands.execute(
            ctx, patient, c.ScheduleFollowUp(due_at=now - timedelta(days=5), purpose="Check-in")
        )
        today = api.get(path(patient, "plan")).get_json()
        assert [f["overdue"] for f in today["follow_ups"]] == [True]
        week_ago = {"as_of": (now - timedelta(days=7)).isoformat()}
        then = api.get(path(patient, "plan"), query_string=week_ago).get_json()
        assert [f["overdue"] for f in then["follow_ups"]] == [False]
        in_effect = {"effective_at": (now - timedelta(days=4)).isoformat()}
        later = api.get(path(patient, "plan"), query_string=in_effect).get_json()
        assert [f["overdue"] for f in later["follow_ups"]] == [True]


class TestRefusalsSayHowToFixTheRequest:
    @pytest.mark.store_independent
    def test_a_body_not_sent_as_json_is_a_415_saying_so(self, api: ApiClient, patient: str) -> None:
        response = api.client.post(
            path(patient, "assessments"),
            data='{"instrument": "PHQ-9", "item_scores": [0,0,0,0,0,0,0,0,0]}',
            headers={**api.headers("psychiatrist"), "Content-Type": "text/plain"},
        )
        assert response.status_code == 415
        assert "Content-Type: application/json" in response.get_json()["detail"]
        assert "instrument" not in str(response.get_json())

    @pytest.mark.store_independent
    def test_a_time_without_a_zone_is_told_to_add_one(self, api: ApiClient, patient: str) -> None:
        response = phq9(api, patient, [0] * 9, effective_at="2026-12-01T09:00:00")
        assert response.status_code == 400
        [message] = response.get_json()["errors"]["effective_at"]
        assert "Add a time zone" in message
        assert "Z" in message
        query = api.get(path(patient, "history") + "?since=2026-12-01T09:00:00")
        assert "Add a time zone" in query.get_json()["errors"]["since"][0]

    @pytest.mark.store_independent
    def test_an_unknown_history_type_lists_the_valid_ones(
        self, api: ApiClient, patient: str
    ) -> None:
        message = refused_query(api, path(patient, "history") + "?type=DoseChange", "type")[0]
        assert "DoseChange" in message
        assert "DoseChanged" in message
        known = api.get(path(patient, "history") + "?type=PatientRegistered,DoseChanged")
        assert known.status_code == 200
        assert [e["type"] for e in known.get_json()["events"]] == ["PatientRegistered"]

    @pytest.mark.store_independent
    def test_an_unknown_audit_action_lists_the_valid_ones(
        self, api: ApiClient, patient: str
    ) -> None:
        messages = refused_query(api, "/api/v1/audit?action=prescribed", "action", as_="auditor")
        assert "MedicationPrescribed" in messages[0]
        for action in ("MedicationPrescribed", "read:*", "read:plan", "denied:*", "Dose*"):
            ok = api.get("/api/v1/audit", as_="auditor", query_string={"action": action})
            assert ok.status_code == 200, (action, ok.get_json())

    @pytest.mark.store_independent
    def test_a_refused_writes_alerts_carry_no_empty_id(self, api: ApiClient, patient: str) -> None:
        assert prescribe(api, patient, "sertraline", 50).status_code == 201
        refused = prescribe(api, patient, "phenelzine", 15)
        assert refused.status_code == 422
        [alert] = refused.get_json()["alerts"]
        assert "id" not in alert
        assert alert["rule_id"] == "DDI-01A"

    def test_a_min_position_beyond_the_head_is_answered_at_once_naming_the_head(
        self, api: ApiClient, patient: str
    ) -> None:
        head = phq9(api, patient, [0] * 9).get_json()["last_position"]
        response = api.get(path(patient, "plan") + f"?min_position={head + 1000}")
        assert response.status_code == 400
        assert f"({head})" in response.get_json()["detail"]
        api.catch_up()
        assert api.get(path(patient, "plan") + f"?min_position={head}").status_code == 200
