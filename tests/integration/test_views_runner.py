"""The runner: exactly-once with two runners at once, live following with read-your-writes,
a lost LISTEN connection, and status."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from domain.command_context import CommandContext
from projections.runner import Views
from projections.sql.postgres import SMALL, split_schema
from services.bootstrap import CareLog
from tests.conftest import Team, make_team
from tests.integration.views_support import (
    dumps,
    fresh_replay,
    note,
    prescribe,
    register,
)
from tests.patient_writes import registration


def write_some(carelog: CareLog, team: Team, patients: int = 3, notes: int = 30) -> None:
    pids = [register(carelog, team, f"MRN-{n}") for n in range(patients)]
    for n in range(notes):
        note(carelog, team, pids[n % patients], f"note {n}")
        carelog.access_log.record(
            actor_id=team.therapist.id,
            actor_role="therapist",
            patient_id=pids[n % patients],
            what="plan",
            request_id=f"req-{n}",
            source="127.0.0.1",
        )


class TestExactlyOnce:
    def test_two_runners_of_the_same_views_apply_every_event_once(
        self, carelog: CareLog, team: Team, tmp_path: Path
    ) -> None:
        write_some(carelog, team, notes=120)
        second = CareLog(carelog.config)
        try:
            runners = [Views(c.app, c.db, c.access_log, batch_size=5) for c in (carelog, second)]
            errors: list[BaseException] = []

            def run(views: Views) -> None:
                try:
                    views.catch_up()
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(v,)) for v in runners]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not errors
        finally:
            second.close()

        head = carelog.app.recorder.max_notification_id()
        trail, _ = carelog.views.audit_trail.entries(limit=1000)
        events = [e["position"] for e in trail if e["kind"] == "event"]
        assert len(events) == len(set(events))
        assert len([e for e in trail if e["kind"] == "access"]) == 120
        assert all(row["position"] == head for row in carelog.views.status())
        assert dumps(carelog.views) == fresh_replay(carelog, tmp_path)


class TestFewItemsTogether:
    def test_a_view_moved_by_another_runner_is_left_alone_while_the_others_go_on(
        self, carelog: CareLog, team: Team, tmp_path: Path
    ) -> None:
        write_some(carelog, team, notes=6)
        views = carelog.views
        views.catch_up()
        before = carelog.app.recorder.max_notification_id()
        pid = register(carelog, team, "MRN-TOGETHER")
        note(carelog, team, pid, "after the others")
        head = carelog.app.recorder.max_notification_id()
        other = Views(carelog.app, carelog.db, carelog.access_log)
        assert other.catch_up(["team_dashboard"]) == head - before  # another runner
        views.follower.refresh_every = 1e9  # this runner still thinks all three are behind
        assert head - before <= SMALL  # a few items: all the views in one transaction

        done = views.follower.run_once()

        # every view but the team dashboard, in one transaction
        assert done == (len(views.views) - 1) * (head - before)
        assert {name: lane.positions["events"] for name, lane in views.lanes.items()} == {
            name: head for name in views.views
        }
        assert dumps(views) == fresh_replay(carelog, tmp_path)


class TestLiveFollowing:
    def test_a_write_is_in_the_views_once_wait_for_its_position_returns(
        self, carelog: CareLog, team: Team
    ) -> None:
        carelog.views.start()
        pid = register(carelog, team, "MRN-LIVE")
        order = prescribe(carelog, team, pid)
        position = carelog.app.recorder.max_notification_id()

        assert carelog.views.wait_for(position, timeout=10)
        plan = carelog.views.current_plan.get(pid)
        assert plan is not None
        assert [m["order_id"] for m in plan["medications"]] == [order]
        assert plan["position"] <= position

    def test_waiting_for_an_ignored_event_ends(self, carelog: CareLog, team: Team) -> None:
        result = carelog.commands.register_patient(
            CommandContext(team.psychiatrist),
            registration("MRN-IDX", "Index", "1990-01-01"),
        )
        topics = [
            n.topic for n in carelog.app.recorder.select_notifications(result.last_position, 1)
        ]
        assert topics == ["carelog.PatientIndex.Indexed"]
        carelog.views.start()
        assert carelog.views.wait_for(result.last_position, timeout=10)

    def test_waiting_for_a_position_not_yet_written_gives_up(
        self, carelog: CareLog, team: Team
    ) -> None:
        register(carelog, team, "MRN-W")
        head = carelog.app.recorder.max_notification_id()
        carelog.views.catch_up()
        assert carelog.views.wait_for(head, timeout=0.05)
        assert not carelog.views.wait_for(head + 1, timeout=0.05)

    def test_accesses_reach_the_audit_trail_while_following(
        self, carelog: CareLog, team: Team
    ) -> None:
        carelog.views.start()
        pid = register(carelog, team, "MRN-A")
        position = carelog.access_log.record(
            actor_id=team.outsider.id,
            actor_role="psychiatrist",
            patient_id=pid,
            what="plan",
            request_id="r-denied",
            source="10.1.2.3",
            allowed=False,
            reason="not on the team",
        )
        assert carelog.views.wait_for(position, timeout=10, stream="access")
        entries, _ = carelog.views.audit_trail.entries(action="denied:*")
        assert [(e["action"], e["source"], e["allowed"]) for e in entries] == [
            ("denied:plan", "10.1.2.3", False)
        ]


class TestSupervision:
    def test_a_lost_listen_connection_is_reopened_and_followed_again(
        self, pg_carelog: CareLog
    ) -> None:
        carelog = pg_carelog
        team = make_team(carelog)
        views = carelog.views
        views.start()
        listener = views._listener
        assert listener is not None
        assert listener.connected.wait(10)
        first = listener.backend_pid
        with psycopg.connect(split_schema(carelog.db.url)[0], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        pid = register(carelog, team, "MRN-R")
        assert views.wait_for(carelog.app.recorder.max_notification_id(), timeout=15)
        for _ in range(300):
            if listener.connected.is_set() and listener.backend_pid != first:
                break
            threading.Event().wait(0.05)
        assert listener.reconnects >= 1
        assert listener.backend_pid != first
        order = prescribe(carelog, team, pid)
        assert views.wait_for(carelog.app.recorder.max_notification_id(), timeout=15)
        plan = views.current_plan.get(pid)
        assert plan is not None
        assert [m["order_id"] for m in plan["medications"]] == [order]


class TestStatus:
    def test_status_shows_the_lag_then_none_after_catching_up(
        self, carelog: CareLog, team: Team
    ) -> None:
        write_some(carelog, team, patients=1, notes=4)
        head = carelog.app.recorder.max_notification_id()
        before = {row["name"]: row for row in carelog.views.status()}
        assert before["current_plan"]["lag_events"] == head
        assert before["audit_trail"]["lag_events"] == head + 4  # and 4 accesses
        assert before["current_plan"]["state"] == "behind"
        assert before["current_plan"]["lag_seconds"] >= 0

        carelog.views.catch_up()
        after = carelog.views.status()
        assert {row["name"] for row in after} == {
            "current_plan",
            "audit_trail",
            "team_dashboard",
            "treatment_trials",
        }
        for row in after:
            assert (
                row["position"],
                row["head"],
                row["lag_events"],
                row["lag_seconds"],
                row["state"],
                row["quarantined"],
            ) == (head, head, 0, 0.0, "caught_up", [])
