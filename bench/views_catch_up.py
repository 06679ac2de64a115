"""The views benchmark's catch-up measurements (``bench/views.py``): the raw scan, each view
caught up from zero, the floors no projection code can avoid, the library's runner for
reference and the profile of where a catch-up's time goes.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench._support import sized
from bench.views_library import library_rate
from bench.views_log import Places
from domain.plan import PlanState
from projections.audit_trail import TRAIL, TRAIL_COLUMNS
from projections.feed import is_ignored, is_patient_event
from projections.runner import Views
from services.bootstrap import CareLog
from services.feeds.relay import tune_collector

REPEAT = sized("CARELOG_BENCH_VIEWS_REPEAT", 1, 5)
LIBRARY_EVENTS = sized("CARELOG_BENCH_VIEWS_LIBRARY_EVENTS", 200, 3000)
VIEWS = ("current_plan", "audit_trail", "team_dashboard", "treatment_trials")
ALL = "all views in one runner"


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
