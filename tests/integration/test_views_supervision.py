"""What an operator relies on when something goes wrong under the views: the runner rides
out a failing store, a lost NOTIFY is caught by the safety poll, and ``/readyz`` says when
a view is stuck on a quarantined event."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import psycopg
import pytest

from services.bootstrap import CareLog
from tests.conftest import Team, make_team
from tests.integration.test_views_quarantine import history_with_poison, poisoned  # noqa: F401
from tests.integration.views_support import note, register
from web import create_app


class TestStoreFailures:
    def test_the_runner_retries_after_the_store_fails_and_then_catches_up(
        self, carelog: CareLog, team: Team, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        views = carelog.views
        real_run_once = views.follower.run_once
        failures = {"left": 3}
        errors_seen: list[str] = []

        def flaky(*args: Any, **kwargs: Any) -> int:
            if failures["left"] > 0:
                failures["left"] -= 1
                error = (
                    psycopg.OperationalError("server closed the connection unexpectedly")
                    if carelog.config.is_postgres
                    else sqlite3.OperationalError("disk I/O error")
                )
                raise error
            return real_run_once(*args, **kwargs)

        monkeypatch.setattr(views.follower, "run_once", flaky)
        pid = register(carelog, team, "MRN-FLAKY")
        views.start()
        try:
            for _ in range(200):  # the runner reports the failure while it backs off
                if views.last_error:
                    errors_seen.append(views.last_error)
                    break
                threading.Event().wait(0.01)
            position = note(carelog, team, pid, "written while the store was failing").position
            assert views.wait_for(position, timeout=15)
        finally:
            views.stop()
        assert failures["left"] == 0
        assert errors_seen
        assert "OperationalError" in errors_seen[0]
        assert views.last_error is None
        plan = views.current_plan.get(pid)
        assert plan is not None


class TestLostNotify:
    def test_a_write_whose_notify_is_lost_is_found_by_the_safety_poll(
        self, pg_carelog: CareLog
    ) -> None:
        carelog = pg_carelog
        team = make_team(carelog)
        views = carelog.views
        views.safety_poll = 0.3
        views.start()
        writer = CareLog(carelog.config)  # another process's writes: only NOTIFY tells us
        try:
            listener = views._listener
            assert listener is not None
            assert listener.connected.wait(10)
            swallowed = threading.Event()
            listener.wake = swallowed.set  # every NOTIFY from now on is lost
            pid = register(writer, team, "MRN-LOST")
            position = note(writer, team, pid, "its NOTIFY never reaches the runner").position
            assert swallowed.wait(10), "the write's NOTIFY should have arrived (and been lost)"
            assert views.wait_for(position, timeout=10)
            plan = views.current_plan.get(pid)
            assert plan is not None
        finally:
            writer.close()
            views.stop()


class TestReadiness:
    def test_readyz_is_degraded_and_names_the_quarantined_event(
        self,
        carelog: CareLog,
        team: Team,
        poisoned: pytest.MonkeyPatch,  # noqa: F811
    ) -> None:
        client = create_app(carelog=carelog).test_client()
        assert client.get("/readyz").get_json()["status"] == "ok"
        pid, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        public = client.get("/readyz").get_json()  # a load balancer: degraded, no detail
        assert public["status"] == "degraded"
        assert "quarantined" not in public["views"][0]
        operator = {"Authorization": f"Bearer {team.tokens['admin']}"}
        body = client.get("/readyz", headers=operator).get_json()
        assert body["status"] == "degraded"
        plan = next(v for v in body["views"] if v["name"] == "current_plan")
        assert plan["state"] == "quarantined"
        [item] = plan["quarantined"]
        assert (item["position"], item["patient_id"]) == (poison, pid)
        assert "cannot project this note" in item["error"]
        others = [v for v in body["views"] if v["name"] != "current_plan"]
        assert all(not v["quarantined"] for v in others)
