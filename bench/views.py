"""Views: catch-up against a raw scan and the library's runner, and live latency.

On SQLite and PostgreSQL, over one synthetic log of ``CARELOG_BENCH_VIEWS_EVENTS`` events
(default 100,000): a few demo patients are told through the real commands, then their
stored events are copied under new patient ids, interleaved 50 patients at a time (as
concurrent clinicians would write them) and inserted through the store's own recorder.

1. Raw scan: ``select_notifications`` in pages of 500 plus ``mapper.to_domain_event`` on
   every event: the ceiling for anything that reads the log.
2. Catch-up of each view alone (the treatment-trials view beside the current plan's),
   from zero into an empty views database (``catch_up``, batches of 500 events, one
   transaction and one tracking update per batch), then of all of them in one runner,
   as ``carelog projections run`` runs them (one read and one decode of each batch).
3. The library's ``ProjectionRunner`` (one transaction per event: a counter row plus its
   tracking row) over the first ``CARELOG_BENCH_VIEWS_LIBRARY_EVENTS`` events (default
   3,000). SQLite cannot subscribe, so there the same library ``Projection`` and tracking
   recorder are driven by a ``select_notifications`` loop, which favours the library.
4. Live: the views following in a background thread (LISTEN/NOTIFY on PostgreSQL,
   polling on SQLite) while ``CARELOG_BENCH_VIEWS_LIVE_WRITES`` notes (default 300) are
   written 5-25 ms apart: write duration, commit to visible in all the views (a separate
   tight poll of the tracking rows), and the read-your-writes ``wait_for`` added after a
   write returns.

Steps 1-3 run with the garbage collector tuned as in the views worker (``carelog
projections run`` calls ``services.feeds.relay.tune_collector``); step 4 with Python's default
settings, as in the web process that runs the views in a thread in the embedded default.
Repeated timings run ``CARELOG_BENCH_VIEWS_REPEAT`` times (default 5).
``CARELOG_BENCH_VIEWS_STORES`` picks stores (default ``sqlite,postgres``).
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import StoredEvent

from bench._support import PG_ADMIN_URL, sized, stores
from bench.views_library import library_rate
from domain import commands as c
from domain.command_context import CommandContext
from domain.plan import PlanState
from projections import tracking
from projections.audit_trail import TRAIL, TRAIL_COLUMNS
from projections.feed import is_ignored, is_patient_event
from projections.runner import Views
from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.config import Config
from services.feeds.relay import tune_collector

EVENTS = sized("CARELOG_BENCH_VIEWS_EVENTS", 1500, 100000)
REPEAT = sized("CARELOG_BENCH_VIEWS_REPEAT", 1, 5)
LIBRARY_EVENTS = sized("CARELOG_BENCH_VIEWS_LIBRARY_EVENTS", 200, 3000)
LIVE_WRITES = sized("CARELOG_BENCH_VIEWS_LIVE_WRITES", 20, 300)
STORES = stores("VIEWS")
INTERLEAVE = 50
VIEWS = ("current_plan", "audit_trail", "team_dashboard", "treatment_trials")


# -- the synthetic log ----------------------------------------------------------------------
def synthetic_history(
    carelog: CareLog, events: int, *, seed_patients: int = 6, interleave: int = INTERLEAVE
) -> int:
    """Fill an empty store with about ``events`` events; returns the log's head.

    The first patients are told by ``services.cli.demo_data`` through the real commands (with the
    safety rules); the rest are copies of their stored events under new patient ids,
    inserted through the store's recorder (so chaining and locks are the real ones),
    ``interleave`` patients' events at a time, round-robin.
    """
    seed(carelog, patients=seed_patients, show_progress=False)
    recorder = carelog.app.recorder
    head = int(recorder.max_notification_id() or 0)
    streams: dict[Any, list[Any]] = defaultdict(list)
    for n in recorder.select_notifications(start=1, limit=head + 1):
        if not is_ignored(n.topic):
            streams[n.originator_id].append(n)
    originals = list(streams.values())
    per_copy = sum(len(s) for s in originals)
    copies = max(0, -(-(events - head) // per_copy))
    pending: list[list[StoredEvent]] = []
    for copy in range(copies):
        for stream in originals:
            new_id = uuid5(NAMESPACE_URL, f"carelog:bench:{stream[0].originator_id}:{copy}")
            pending.append(
                [StoredEvent(new_id, n.originator_version, n.topic, n.state) for n in stream]
            )
    for start in range(0, len(pending), interleave):
        group = pending[start : start + interleave]
        mixed: list[StoredEvent] = []
        for step in range(max(len(s) for s in group)):
            mixed += [s[step] for s in group if step < len(s)]
        for chunk in range(0, len(mixed), 500):
            recorder.insert_events(mixed[chunk : chunk + 500])
    return int(recorder.max_notification_id() or 0)


# -- stores -------------------------------------------------------------------------------
class Places:
    """Fresh stores and views databases for one benchmark run, cleaned up at the end."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.schemas: list[str] = []

    def url(self, tag: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / f'{tag}-{uuid.uuid4().hex[:6]}.db'}"
        import psycopg

        schema = f"bench_{tag}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        self.schemas.append(schema)
        return f"{PG_ADMIN_URL}?schema={schema}"

    def close(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def places(kind: str) -> Iterator[Places]:
    with tempfile.TemporaryDirectory(prefix="carelog-bench-views-") as folder:
        found = Places(kind, Path(folder))
        try:
            yield found
        finally:
            found.close()


def config(url: str, views_url: str | None = None) -> Config:
    return Config(
        database_url=url, views_url=views_url, run_projections=False, group_commit_ms=0, pool_size=4
    )


# -- measurements -------------------------------------------------------------------------
def raw_scan(app: Any, head: int) -> float:
    started = time.perf_counter()
    position, seen = 0, 0
    while True:
        page = app.recorder.select_notifications(
            start=position, limit=500, inclusive_of_start=False
        )
        if not page:
            break
        for notification in page:
            app.mapper.to_domain_event(notification)
        position = page[-1].id
        seen += len(page)
    assert seen >= head * 0.99
    return seen / (time.perf_counter() - started)


def view_catch_up(carelog: CareLog, names: list[str], views_url: str) -> float:
    """Events per second for the views ``names`` to catch up from zero in one runner."""
    other = CareLog(carelog.config.with_(views_url=views_url))
    try:
        views = Views(other.app, other.db, None, batch_size=500)
        started = time.perf_counter()
        done = views.catch_up(names)
        elapsed = time.perf_counter() - started
        head = int(other.app.recorder.max_notification_id() or 0)
        assert done == head * len(names)
        return head / elapsed
    finally:
        other.close()


def fold_alone(carelog: CareLog, head: int) -> float:
    """Events per second for ``PlanState.apply`` alone over the whole log, decoded
    beforehand: what the current-plan and dashboard views cannot avoid however little
    else they do (no read, decode, render or SQL)."""
    events = [
        carelog.app.mapper.to_domain_event(n)
        for n in carelog.app.recorder.select_notifications(start=1, limit=head + 1)
        if not is_ignored(n.topic)
    ]
    states: dict[Any, PlanState] = defaultdict(PlanState)
    started = time.perf_counter()
    for event in events:
        if is_patient_event(event):
            states[event.originator_id].apply(event)
    return head / (time.perf_counter() - started)


def audit_inserts_alone(carelog: CareLog, head: int, built_url: str, fresh_url: str) -> float:
    """Events per second for inserting the audit trail's rows alone: the rows a
    catch-up wrote, inserted again into the same table with the same indexes, 500 rows
    a transaction, as the view does, but with no read, decode or row making."""
    built = CareLog(carelog.config.with_(views_url=built_url))
    try:
        Views(built.app, built.db, None, batch_size=500).catch_up(["audit_trail"])
        rows = [
            tuple(r[c] for c in TRAIL_COLUMNS)
            for r in built.db.query(f"SELECT * FROM {TRAIL} ORDER BY id")
        ]
    finally:
        built.close()
    fresh = CareLog(carelog.config.with_(views_url=fresh_url))
    try:
        Views(fresh.app, fresh.db, None, batch_size=500)  # its tables and indexes, empty
        started = time.perf_counter()
        for start in range(0, len(rows), 500):
            with fresh.db.transaction() as cur:
                cur.insert_rows(TRAIL, TRAIL_COLUMNS, rows[start : start + 500])
        return head / (time.perf_counter() - started)
    finally:
        fresh.close()


@contextmanager
def worker_collector() -> Iterator[None]:
    """The garbage collector as the views worker tunes it, restored afterwards."""
    before = gc.get_threshold()
    tune_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


PARTS = {  # (module file, function) -> what it is, for the profile's breakdown
    ("feed.py", "items"): "decode",
    ("plan_states.py", "fold"): "fold (PlanState.apply)",
    ("plan_states.py", "encode"): "render + JSON",
    ("audit_trail.py", "_event_rows"): "rows + JSON",
    ("plan_states.py", "take"): "cached states",
    ("database.py", "replace_rows"): "SQL writes",
    ("database.py", "insert_rows"): "SQL writes",
    ("batch.py", "apply"): "batch (all but the read)",
}


def breakdown(carelog: CareLog, name: str, views_url: str) -> str:
    """Where a catch-up's time goes, by cumulative time in its parts (under cProfile,
    which slows Python calls, so read it as proportions; the next batch's query runs in a
    background thread and is not counted)."""
    import cProfile
    import pstats

    other = CareLog(carelog.config.with_(views_url=views_url))
    try:
        views = Views(other.app, other.db, None, batch_size=500)
        profile = cProfile.Profile()
        profile.runcall(lambda: views.catch_up([name]))
    finally:
        other.close()
    stats: Any = pstats.Stats(profile)
    total = max(t for (_f, _l, fn), (_c, _n, _t, t, _) in stats.stats.items() if fn == "catch_up")
    shares: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_c, _n, _t, cumulative, _) in stats.stats.items():
        part = PARTS.get((os.path.basename(filename), function))
        if part:
            shares[part] += cumulative
    ordered = sorted(shares.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{part} {100 * t / total:.0f}%" for part, t in ordered)


def live(carelog: CareLog) -> dict[str, list[float]]:
    """Write notes one at a time while the views follow in the background."""
    psychiatrist = carelog.staff.add("Bench psychiatrist", "psychiatrist")[0].actor
    pids = [
        carelog.commands.register_patient(
            CommandContext(psychiatrist),
            c.RegisterPatient(
                external_id=f"LIVE-{n}",
                name=f"Live {n}",
                birth_date=date.fromisoformat("1970-01-01"),
            ),
        ).patient_id
        for n in range(10)
    ]
    views = carelog.views
    views.catch_up()
    views.start()
    for _ in range(200):
        if views.listening or carelog.db.dialect != "postgres":
            break
        time.sleep(0.05)
    rng = random.Random(7)
    out: dict[str, list[float]] = defaultdict(list)
    names = list(VIEWS)
    for n in range(2 * LIVE_WRITES):
        time.sleep(rng.uniform(0.005, 0.025))
        started = time.perf_counter()
        result = carelog.commands.execute(
            CommandContext(psychiatrist),
            pids[n % 10],
            c.AddNote(kind="progress", modality="other", text=f"live {n}"),
        )
        written = time.perf_counter()
        out["write"].append((written - started) * 1000)
        if n % 2 == 0:  # visible: an outside observer polling the tracking rows
            while True:
                found = tracking.positions(carelog.db, names)
                if all(found[(v, "events")][0] >= result.position for v in names):
                    break
                time.sleep(0.0002)
            seen = time.perf_counter()
            out["visible_after_commit"].append((seen - written) * 1000)
            out["visible_after_write_start"].append((seen - started) * 1000)
        else:  # read-your-writes: what the API adds before answering
            assert views.wait_for(result.position, timeout=5)
            out["wait_for"].append((time.perf_counter() - written) * 1000)
    views.stop()
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def settle(kind: str) -> None:
    """PostgreSQL: vacuum, analyze and checkpoint after the bulk load, so that the
    server's own catching up (autovacuum of the new log, flushing it to disk) does not
    take the second core from whichever timing happens to run next."""
    if kind != "postgres":
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def measure(kind: str, report: Any) -> None:
    with places(kind) as where:
        carelog = CareLog(config(where.url("store")))
        try:
            started = time.perf_counter()
            head = synthetic_history(carelog, EVENTS)
            report(f"{kind}: log built ({head:,} events)", time.perf_counter() - started, "s")
            settle(kind)
            with worker_collector():
                catch_ups(carelog, kind, head, where, report)
        finally:
            carelog.close()
        carelog = CareLog(config(where.url("live")))
        try:
            found = live(carelog)
            for what, values in found.items():
                report(
                    f"{kind}: live {what.replace('_', ' ')} p50 / p99",
                    f"{percentile(values, 50):.1f} / {percentile(values, 99):.1f}",
                    f"ms (n={len(values)})",
                )
        finally:
            carelog.close()


ALL = "all views in one runner"


def catch_ups(carelog: CareLog, kind: str, head: int, where: Places, report: Any) -> None:
    library = library_rate(carelog, where.url("library"), min(LIBRARY_EVENTS, head))
    scans: list[float] = []
    rates: dict[str, list[float]] = defaultdict(list)
    ratios: dict[str, list[float]] = defaultdict(list)
    runs = [(name, [name]) for name in VIEWS] + [(ALL, list(VIEWS))]
    for _ in range(REPEAT):  # interleaved, so that a busy moment hits both sides
        scan = raw_scan(carelog.app, head)
        scans.append(scan)
        for name, names in runs:
            rate = view_catch_up(carelog, names, where.url("views"))
            rates[name].append(rate)
            ratios[name].append(rate / scan)
    report.samples(f"{kind}: raw scan (select_notifications + decode)", scans, "events/s")
    report(
        f"{kind}: library ProjectionRunner (first {min(LIBRARY_EVENTS, head):,} events)",
        library,
        "events/s",
    )
    ceiling = statistics.median(scans)
    if 25 * library > ceiling:
        report.text(
            f"{kind}: 25 x the library's rate ({25 * library:,.0f} events/s) is"
            f" above the raw scan itself ({ceiling:,.0f} events/s): no view"
            " that reads and decodes the log can reach that target here."
        )
    floors = {
        "PlanState fold alone (the whole log decoded beforehand; no read, decode,"
        " render or SQL)": fold_alone(carelog, head),
        "audit_trail's inserts alone (its rows again, same table and indexes, 500 a"
        " transaction; no read, decode or row making)": audit_inserts_alone(
            carelog, head, where.url("built"), where.url("fresh")
        ),
    }
    for what, rate in floors.items():
        report(f"{kind}: floor: {what}", rate, "events/s")
        report(f"{kind}: floor: {what.split(' (')[0]} / raw scan", f"{100 * rate / ceiling:.0f}%")
    for name in ("current_plan", "audit_trail"):
        report.text(
            f"{kind}: where {name}'s catch-up spends its time (cProfile): "
            f"{breakdown(carelog, name, where.url('profile'))}."
        )
    for name, _names in runs:
        median = statistics.median(rates[name])
        scan_target, library_target = (" (target >= 50%)", " (target >= 25x)")
        if name == ALL:  # each view is caught up at this rate, all of them at once
            scan_target = library_target = ""
        report.samples(f"{kind}: {name} catch-up", rates[name], "events/s")
        report.samples(
            f"{kind}: {name} / raw scan of the same round{scan_target}",
            [100 * r for r in ratios[name]],
            "%",
        )
        report(f"{kind}: {name} / library runner{library_target}", f"{median / library:.1f}x")


def run(report: Any) -> None:
    report.text(
        f"Log: {EVENTS:,} events requested; {REPEAT} repetition(s) per timing; "
        f"library runner over {LIBRARY_EVENTS:,} events; {LIVE_WRITES * 2} live "
        "writes. Targets (issue 3): each view's catch-up >= 50% of the raw scan and "
        ">= 25x the library's runner; on PostgreSQL live write -> visible p50 <= 10 ms"
        " and p99 <= 50 ms, read-your-writes wait <= 10 ms."
    )
    report.text(
        "How it was run: the raw scan, the library's runner and the catch-ups run with "
        "the garbage collector tuned as the views worker (`carelog projections run`) "
        "tunes it (`services.feeds.relay.tune_collector`: start-up objects frozen, youngest "
        "generation collected every 50,000 allocations rather than 700); the live part "
        "runs the views in a background thread of the writing process with "
        "Python's default collector, as the embedded default runs them in the web "
        "process. Each view's catch-up is measured alone; `all views in one runner` is "
        "what the worker does: one read and one decode of each batch for all the "
        "views (so each of them is caught up at that rate). While catching up, the "
        "runner reads the next batch in a background thread, decodes it once, and "
        "commits each view's batch of 500 with its tracking row in one transaction (on "
        "PostgreSQL, the views' transactions in parallel threads). Following live, the "
        "few new events go into all the views in one transaction, and "
        "read-your-writes (`wait_for`) is woken by the runner's commit in the same "
        "process (it polls the tracking rows, 1 ms rising to 20 ms, across processes)."
    )
    report.text(
        "Reading the results: a view's catch-up does everything the raw scan does "
        "(read and decode every event; both decode with orjson, `services/writing/transcoder.py`) "
        "and then its own work, so 50% of the raw scan means its own work costs no "
        "more than reading and decoding. The current-plan and dashboard views fold each "
        "event with the domain's PlanState (the fold the record itself uses) and "
        "re-render each touched patient's document once per batch (only the sections "
        "the batch's event types can change); the audit trail writes one row per event "
        "into a table with five indexes. The two `floor` rows measure what no "
        "projection code can avoid: the fold alone, and the audit trail's inserts alone "
        "(a bare loop putting the same rows into the same table and indexes). A view "
        "at 50% of the raw scan has, per event, the raw scan's own time left for all "
        "of its work: where a floor row is near or under 100%, its floor alone takes "
        "most or all of that. The profile lines below say where the time goes. The "
        "PostgreSQL log is vacuumed, analyzed and checkpointed after it is built, so "
        "the server's own work on it does not land in whichever timing runs next."
    )
    for kind in STORES:
        measure(kind, report)


if __name__ == "__main__":
    from bench.__main__ import Report

    run(Report("views", "views"))
