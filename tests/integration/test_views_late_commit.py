"""The late-commit gap on PostgreSQL: a follower must never move past a write that has
taken its position but not committed, or it would skip that write for ever. The event
store's EXCLUSIVE table lock closes the gap: a second writer waits for the first to
commit, so positions commit in order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg

from projections.sql.postgres import split_schema
from services.bootstrap import CareLog
from tests.conftest import make_team
from tests.integration.views_support import note, register


def waiting_on_lock(carelog: CareLog) -> int:
    """How many sessions wait for a lock on the events table."""
    conninfo, schema = split_schema(carelog.config.database_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE NOT l.granted AND c.relname = %s AND n.nspname = %s",
            (carelog.app.recorder.events_table_name, schema),
        ).fetchone()
    return int(row[0]) if row else 0


def until(condition: Callable[[], bool], attempts: int = 400) -> bool:
    for _ in range(attempts):
        if condition():
            return True
        threading.Event().wait(0.025)
    return False


class TestLateCommitGap:
    def test_the_follower_holds_back_until_the_earlier_write_commits(
        self, pg_carelog: CareLog
    ) -> None:
        carelog = pg_carelog
        team = make_team(carelog)
        first, second = register(carelog, team, "MRN-A"), register(carelog, team, "MRN-B")
        carelog.views.catch_up()
        recorder: Any = carelog.app.recorder
        original = recorder._fetch_ids_after_insert_events
        inserted, release = threading.Event(), threading.Event()
        a_positions: list[int] = []

        def pausing(*args: Any, **kwargs: Any) -> Any:
            ids = original(*args, **kwargs)
            if threading.current_thread().name == "writer-A":
                a_positions.extend(ids)
                inserted.set()  # A has its positions and holds the lock, uncommitted
                release.wait(30)
            return ids

        recorder._fetch_ids_after_insert_events = pausing
        results: dict[str, Any] = {}
        writers = [
            threading.Thread(
                name="writer-A", target=lambda: results.update(a=note(carelog, team, first, "A"))
            ),
            threading.Thread(
                name="writer-B", target=lambda: results.update(b=note(carelog, team, second, "B"))
            ),
        ]
        writers[0].start()
        try:
            assert inserted.wait(30)
            writers[1].start()
            assert until(lambda: waiting_on_lock(carelog) >= 1), "B waits for A's lock"

            carelog.views.catch_up()
            assert all(row["position"] < min(a_positions) for row in carelog.views.status())
        finally:
            release.set()
            for writer in writers:
                if writer.is_alive() or writer.ident:
                    writer.join(30)
            recorder._fetch_ids_after_insert_events = original

        assert results["a"].position in a_positions
        assert results["b"].position > max(a_positions)
        carelog.views.catch_up()
        entries, _ = carelog.views.audit_trail.entries(action="NoteAdded")
        assert [e["position"] for e in entries] == [results["a"].position, results["b"].position]
