"""Rebuilding a view from zero gives the rows incremental processing gave, row for row, on
both stores: over the demo data, over generated histories, and while writes go on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from projections import rebuild as rebuild_steps
from projections.runner import Views
from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.config import Config
from tests.conftest import Team
from tests.integration.views_support import dumps, fresh_replay, note, register


def indexed_columns(carelog: CareLog) -> dict[str, list[str]]:
    """Per view table: the column lists of its indexes (names carry the generation)."""
    db = carelog.views.db
    out: dict[str, list[str]] = {}
    with db.read() as cur:
        for view in carelog.views.views.values():
            for table in view.tables:
                if db.dialect == "postgres":
                    rows = cur.execute(
                        "SELECT indexdef AS sql FROM pg_indexes WHERE tablename = ?"
                        " AND schemaname = current_schema()",
                        (table,),
                    ).fetchall()
                else:
                    rows = cur.execute(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                        " AND sql IS NOT NULL",
                        (table,),
                    ).fetchall()
                on = (str(r["sql"]).partition(" ON ")[2].replace('"', "") for r in rows)
                out[table] = sorted(on)  # SQLite quotes a renamed table's name
    return out


def small_batches(carelog: CareLog, batch_size: int = 7) -> Views:
    """The system's views, but processing a few events per transaction, so that an
    incremental run crosses many batch boundaries."""
    carelog.views.batch_size = batch_size
    return carelog.views


class TestRebuildMatchesIncremental:
    def test_rebuilt_views_equal_the_incrementally_built_ones_on_the_demo(
        self, carelog: CareLog, tmp_path: Path
    ) -> None:
        views = small_batches(carelog)
        demo = seed(carelog, patients=2, show_progress=False)
        views.catch_up()
        seed(carelog, patients=4, show_progress=False)  # two more, after a first catch-up
        for pid in demo["patients"]:
            carelog.access_log.record(
                actor_id="someone",
                actor_role="auditor",
                patient_id=pid,
                what="plan",
                request_id="r-1",
                source="127.0.0.1",
            )
        views.catch_up()
        incremental = dumps(views)
        assert len(incremental["current_plan"]["current_plan"]) == 4

        for name in views.views:
            result = views.rebuild(name, progress=False)
            assert result["events"] > 0

        assert dumps(views) == incremental
        assert fresh_replay(carelog, tmp_path) == incremental

    def test_a_rebuilt_view_has_every_index_the_live_one_had(self, carelog: CareLog) -> None:
        """A rebuild loads its tables bare and creates the readers' indexes before the swap."""
        views = carelog.views
        seed(carelog, patients=2, show_progress=False)
        views.catch_up()
        before = indexed_columns(carelog)
        assert before["audit_trail"]
        assert before["current_plan_member"]
        for name in views.views:
            views.rebuild(name, progress=False)
        assert indexed_columns(carelog) == before

    @pytest.mark.fresh_store  # the views' migration, started mid-rebuild
    def test_a_process_opening_the_views_mid_rebuild_leaves_every_index_where_it_was(
        self, carelog: CareLog, config: Config
    ) -> None:
        """While a rebuild loads its bare tables, view_meta names its generation; another
        process starting then must not create that generation's indexes on the live tables
        (it did: the rebuild then met its own index names taken)."""
        views = carelog.views
        seed(carelog, patients=2, show_progress=False)
        views.catch_up()
        before = indexed_columns(carelog)
        view = views.view("audit_trail")
        tables, key = rebuild_steps._begin(views.db, view)  # a rebuild elsewhere, mid-load
        other = CareLog(config)
        try:
            assert other.views.view("audit_trail") is not None  # opening runs the migration
        finally:
            other.close()
        assert indexed_columns(carelog) == before
        rebuild_steps._abandon(views.db, view, tables, key)
        views.rebuild("audit_trail", progress=False)
        assert indexed_columns(carelog) == before


class TestRebuildUnderWrites:
    def test_a_view_swapped_in_while_writes_continue_misses_none_of_them(
        self, carelog: CareLog, team: Team, tmp_path: Path
    ) -> None:
        pids = [register(carelog, team, f"MRN-{n}") for n in range(3)]
        for pid in pids:
            for _ in range(20):
                note(carelog, team, pid)
        carelog.views.start()
        rebuilding = threading.Event()
        done = threading.Event()
        written_during: list[int] = []
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                n = 0
                while not done.is_set() or not written_during:
                    result = note(carelog, team, pids[n % 3], f"during {n}")
                    carelog.access_log.record(
                        actor_id=team.therapist.id,
                        actor_role="therapist",
                        patient_id=pids[n % 3],
                        what="plan",
                        request_id=f"r{n}",
                        source="127.0.0.1",
                    )
                    if rebuilding.is_set():
                        written_during.append(result.position)
                    n += 1
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            rebuilding.set()
            results = [
                carelog.views.rebuild(name, progress=False)
                for name in ("audit_trail", "current_plan", "team_dashboard")
            ]
        finally:
            done.set()
            thread.join()
        assert not errors
        assert written_during, "the writer wrote during the rebuild"
        head = carelog.app.recorder.max_notification_id()
        assert carelog.views.wait_for(head, timeout=30)
        carelog.views.stop()
        carelog.views.catch_up()  # the access log's tail, if the runner had not got to it

        assert all(r["events"] > 0 for r in results)
        assert dumps(carelog.views) == fresh_replay(carelog, tmp_path)
        trail, _ = carelog.views.audit_trail.entries(action="NoteAdded", limit=1000)
        assert {e["position"] for e in trail} >= set(written_during)


class TestSwapIsAtomic:
    def test_a_reader_sees_the_old_view_or_the_new_one_never_an_empty_one(
        self, carelog: CareLog, team: Team
    ) -> None:
        pids = [register(carelog, team, f"MRN-{n}") for n in range(5)]
        carelog.views.catch_up()
        stop = threading.Event()
        seen: list[int] = []

        def reader() -> None:
            while not stop.is_set():
                seen.append(len(carelog.views.current_plan.all_patients()))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for _ in range(3):
                carelog.views.rebuild("current_plan", progress=False)
        finally:
            stop.set()
            thread.join()
        assert seen
        assert set(seen) == {len(pids)}
