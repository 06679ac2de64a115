"""Reads: the plan under both clocks, history paging, min_position, dashboards, audit."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


class TestPlanClocks:
    def test_as_of_shows_the_earlier_dose(self, api: ApiClient, patient: str) -> None:
        order = prescribe(api, patient).get_json()["order_id"]
        time.sleep(0.01)
        between = datetime.now(UTC).isoformat()
        time.sleep(0.01)
        changed = api.post(
            path(patient, f"medications/{order}/dose-changes"),
            {"dose": {"amount": 100, "unit": "mg"}, "reason": "titration"},
        )
        assert changed.status_code == 201
        now = api.get(path(patient, "plan")).get_json()
        then = api.get(path(patient, "plan"), query_string={"as_of": between}).get_json()
        assert now["medications"][0]["dose"]["amount"] == 100
        assert then["medications"][0]["dose"]["amount"] == 50
        assert then["version"] < now["version"]

    def test_effective_at_reflects_a_late_entry(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient, effective_at="2026-01-05T09:00:00Z")
        in_effect = api.get(
            path(patient, "plan"), query_string={"effective_at": "2026-01-10T00:00:00Z"}
        ).get_json()
        before = api.get(
            path(patient, "plan"), query_string={"effective_at": "2026-01-01T00:00:00Z"}
        ).get_json()
        assert [m["drug"] for m in in_effect["medications"]] == ["sertraline"]
        assert before["medications"] == []

    @pytest.mark.store_independent
    def test_naive_as_of_is_400(self, api: ApiClient, patient: str) -> None:
        response = api.get(path(patient, "plan"), query_string={"as_of": "2026-01-01T00:00"})
        problem_naming(response, 400, "as_of")


class TestHistory:
    def test_pages_with_a_stable_cursor_and_filters_by_type(
        self, api: ApiClient, patient: str
    ) -> None:
        for i in range(3):
            api.post(
                path(patient, "notes"),
                {"kind": "progress", "modality": "supportive", "text": f"n{i}"},
            )
        first = api.get(path(patient, "history"), query_string={"limit": 2}).get_json()
        assert len(first["events"]) == 2
        assert first["next_cursor"]
        rest = api.get(
            path(patient, "history"), query_string={"cursor": first["next_cursor"], "limit": 100}
        ).get_json()
        ids = [e["id"] for e in first["events"] + rest["events"]]
        assert len(ids) == len(set(ids)) == api.carelog.app.get_record(patient).version
        assert rest["next_cursor"] is None
        notes = api.get(path(patient, "history"), query_string={"type": "NoteAdded"}).get_json()
        assert [e["type"] for e in notes["events"]] == ["NoteAdded"] * 3
        event = notes["events"][0]
        assert set(event) >= {"id", "type", "recorded_at", "effective_at", "actor", "data"}
        assert event["actor"] == {"id": api.team.psychiatrist.id, "role": "psychiatrist"}

    @pytest.mark.parametrize(
        ("endpoint", "query"),
        [("history", {"type": "Note\x00Added"}), ("audit", {"action": "read:\x00"})],
    )
    def test_a_nul_in_the_query_is_a_400_naming_the_parameter(
        self, api: ApiClient, patient: str, endpoint: str, query: dict[str, str]
    ) -> None:
        # PostgreSQL refuses NUL in text: it used to end in a 500 (a fuzzer found it)
        response = api.get(path(patient, endpoint), query_string=query)
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        assert set(response.get_json()["errors"]) == set(query)

    @pytest.mark.parametrize("cursor", ["abc", "\u00b9", "\u0663", "9" * 40])
    @pytest.mark.store_independent
    def test_bad_cursor_is_400(self, api: ApiClient, patient: str, cursor: str) -> None:
        # "¹" and "٣" pass str.isdigit but are no position (a fuzzer found the first)
        response = api.get(path(patient, "history"), query_string={"cursor": cursor})
        assert response.status_code == 400  # API.md: malformed input is a 400
        assert response.mimetype == "application/problem+json"
        assert "cursor" in response.get_json()["errors"]


class TestReadYourWrites:
    def test_min_position_waits_for_the_views(self, api: ApiClient, patient: str) -> None:
        # The views run here: the read may wait as long as a server's would, and more.
        api.carelog.config = api.carelog.config.with_(views_wait_seconds=30.0)
        api.carelog.views.start()
        try:
            written = prescribe(api, patient).get_json()
            response = api.get(
                "/api/v1/dashboard", query_string={"min_position": written["position"]}
            )
            assert response.status_code == 200
        finally:
            api.carelog.views.stop()

    def test_min_position_the_views_have_not_reached_is_503_with_retry_after(
        self, api: ApiClient, patient: str
    ) -> None:
        written = prescribe(api, patient).get_json()  # (the views here run only when asked)
        response = api.get("/api/v1/dashboard", query_string={"min_position": written["position"]})
        assert response.status_code == 503
        assert response.headers["Retry-After"]

    def test_min_position_beyond_the_logs_head_is_a_400_at_once_naming_the_head(
        self, api: ApiClient, patient: str
    ) -> None:
        """No wait can reach a position no write has returned: not a 503 "retry"."""
        head = api.carelog.app.recorder.max_notification_id()
        response = api.get("/api/v1/dashboard", query_string={"min_position": 10**9})
        assert response.status_code == 400
        assert f"head ({head})" in response.get_json()["detail"]
        assert "Retry-After" not in response.headers

    @pytest.mark.parametrize("what", ["plan", "history", "audit"])
    def test_every_patient_read_honours_min_position(
        self, api: ApiClient, patient: str, what: str
    ) -> None:
        written = prescribe(api, patient).get_json()
        api.catch_up()
        reached = api.get(path(patient, what), query_string={"min_position": written["position"]})
        assert reached.status_code == 200, reached.get_json()
        pending = prescribe(api, patient, "mirtazapine", 15).get_json()["position"]
        behind = api.get(path(patient, what), query_string={"min_position": pending})
        assert behind.status_code == 503, behind.get_json()
        assert behind.mimetype == "application/problem+json"
        assert behind.headers["Retry-After"]
        beyond = api.get(path(patient, what), query_string={"min_position": 10**9})
        assert beyond.status_code == 400, beyond.get_json()


class TestDashboardAndLists:
    def test_dashboard_ranks_a_suicide_risk_item_first(self, api: ApiClient) -> None:
        from tests.api.conftest import register_patient

        calm = register_patient(api, "MRN-CALM")
        risky = register_patient(api, "MRN-RISK")
        # Mild depression (total 8) with item 9 at 0: more points, but no suicide-risk item.
        api.post(
            path(calm, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [1] * 8 + [0]},
            as_="therapist",
        )
        api.post(
            path(risky, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [0] * 8 + [1]},
            as_="therapist",
        )
        api.catch_up()
        board = api.get("/api/v1/dashboard").get_json()
        assert board["patients"][0]["patient_id"] == risky

    def test_patient_list_is_limited_to_the_callers_care_teams(
        self, api: ApiClient, patient: str
    ) -> None:
        api.catch_up()
        mine = api.get("/api/v1/patients").get_json()["patients"]
        assert [p["patient_id"] for p in mine] == [patient]
        assert api.get("/api/v1/patients", as_="outsider").get_json()["patients"] == []
        assert len(api.get("/api/v1/patients", as_="auditor").get_json()["patients"]) == 1

    def test_audit_shows_writes_reads_and_denials(self, api: ApiClient, patient: str) -> None:
        api.get(path(patient, "plan"))
        api.get(path(patient, "plan"), as_="outsider")
        api.catch_up()
        entries = api.get(
            "/api/v1/audit", as_="auditor", query_string={"patient_id": patient, "limit": 1000}
        ).get_json()
        actions = [e["action"] for e in entries["entries"]]
        assert "PatientRegistered" in actions
        assert any(a.startswith("read:") or a == "plan" for a in actions)
        assert any(e["allowed"] is False for e in entries["entries"])
        assert api.get("/api/v1/audit", as_="psychiatrist").status_code == 403


class TestMetrics:
    def test_metrics_show_latency_writes_and_view_lag_to_an_admin(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient)
        response = api.get("/metrics", as_="admin")
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "carelog_http_request_seconds_bucket" in text
        assert "carelog_write_events_count" in text
        assert 'carelog_view_lag_events{view="current_plan"}' in text
        assert "carelog_quarantined_events" in text
        assert api.get("/metrics", as_="psychiatrist").status_code == 403
        assert api.get("/metrics", as_=None).status_code == 401
