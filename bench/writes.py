"""Writes: one command against bare save() and raw INSERTs, and group commit.

On SQLite and PostgreSQL (``CARELOG_BENCH_WRITES_STORES``, default ``sqlite,postgres``),
each figure in the same run as its references:

1. Raw one-row INSERT transactions (``sqlite3`` / ``psycopg``, one row of 300 bytes and a
   commit each): the store's own ceiling for one-at-a-time writes.
2. Bare ``save()``: the library alone, a one-field aggregate, one event per ``save`` (the
   library's own recorder, no chaining, no rules).
3. One CareLog command: a PHQ-9 recorded by a therapist through ``Commands`` (load the
   record, authorization, the safety rules, chaining, the save), group commit off.
4. Concurrency: ``CARELOG_BENCH_WRITES_CLIENTS`` threads (default 16), each recording
   PHQ-9s for its own patient as fast as it can, with group commit off (one save per
   command) and on (``CARELOG_GROUP_COMMIT_MS``, default 2 ms); commands/s and latency
   percentiles, and the single-client p99 with group commit on for the latency target.

Each timed part runs ``CARELOG_BENCH_WRITES_REPEAT`` times (default 5) over
``CARELOG_BENCH_WRITES_COMMANDS`` writes (default 400 per run; per client under
concurrency, 100).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.__main__ import Report
from bench._support import percentile, sized, stores
from bench.views_log import places
from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.patient_writes import register

STORES = stores("WRITES")
REPEAT = sized("CARELOG_BENCH_WRITES_REPEAT", 1, 5)
COMMANDS = sized("CARELOG_BENCH_WRITES_COMMANDS", 20, 400)
CLIENTS = sized("CARELOG_BENCH_WRITES_CLIENTS", 4, 16)
PER_CLIENT = sized("CARELOG_BENCH_WRITES_PER_CLIENT", 5, 100)
WINDOW_MS = float(os.environ.get("CARELOG_GROUP_COMMIT_MS", "2"))
PAYLOAD = os.urandom(150).hex()  # 300 bytes, about a small clinical event's stored state


class Counter(Aggregate):
    """The smallest aggregate the library can save: the bare-save reference."""

    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.count += 1


# -- references -----------------------------------------------------------------------------
def raw_inserts(url: str, n: int) -> float:
    """One-row INSERT transactions per second, straight through the driver."""
    if url.startswith("sqlite"):
        import sqlite3

        path = url.removeprefix("sqlite:///") + ".raw"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, data TEXT)")
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO raw (data) VALUES (?)", (PAYLOAD,))
            conn.execute("COMMIT")
        rate = n / (time.perf_counter() - started)
        conn.close()
        return rate
    import psycopg

    base, _, query = url.partition("?schema=")
    with psycopg.connect(base) as conn:
        conn.execute(f"SET search_path TO {query}")
        conn.execute("CREATE TABLE IF NOT EXISTS raw (id BIGSERIAL PRIMARY KEY, data TEXT)")
        conn.commit()
        started = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO raw (data) VALUES (%s)", (PAYLOAD,))
            conn.commit()
        return n / (time.perf_counter() - started)


def bare_saves(config: Config, n: int) -> tuple[float, list[float]]:
    """The library alone: one event per ``save()``; saves/s and latencies (s)."""
    env = {k: v for k, v in config.eventsourcing_env().items() if k != "APPLICATION_RECORDER_TOPIC"}
    env["IS_SNAPSHOTTING_ENABLED"] = "n"
    app = Application(env=env)
    try:
        counter = Counter()
        app.save(counter)
        latencies = []
        started = time.perf_counter()
        for _ in range(n):
            begun = time.perf_counter()
            counter.increment(note=PAYLOAD)
            app.save(counter)
            latencies.append(time.perf_counter() - begun)
        return n / (time.perf_counter() - started), latencies
    finally:
        app.close()


# -- CareLog ------------------------------------------------------------------------------------
class Clinic:
    """A CareLog on one store with a therapist and patients to write for."""

    def __init__(self, config: Config) -> None:
        self.carelog = CareLog(config)
        psychiatrist, _ = self.carelog.staff.add("Bench Psychiatrist", "psychiatrist", False)
        therapist, _ = self.carelog.staff.add("Bench Therapist", "therapist", False)
        self.psychiatrist, self.therapist = psychiatrist.actor, therapist.actor

    def patient(self) -> str:
        ctx = CommandContext(actor=self.psychiatrist)
        pid = register(self.carelog, ctx, f"BENCH-{uuid.uuid4().hex[:10]}", "Bench Patient")
        self.carelog.commands.execute(
            ctx, pid, c.AssignCareTeamMember(clinician_id=self.therapist.id, role="therapist")
        )
        return str(pid)

    def command(self, pid: str) -> float:
        """One PHQ-9 through the whole write path; returns its latency (s)."""
        begun = time.perf_counter()
        self.carelog.commands.execute(
            CommandContext(actor=self.therapist),
            pid,
            c.RecordAssessment(instrument="PHQ-9", item_scores=[1, 1, 0, 1, 0, 1, 0, 0, 0]),
        )
        return time.perf_counter() - begun

    def close(self) -> None:
        self.carelog.close()


def single_client(clinic: Clinic, n: int) -> tuple[float, list[float]]:
    pid = clinic.patient()
    started = time.perf_counter()
    latencies = [clinic.command(pid) for _ in range(n)]
    return n / (time.perf_counter() - started), latencies


def concurrent(clinic: Clinic, clients: int, per_client: int) -> tuple[float, list[float]]:
    """``clients`` threads, each writing for its own patient; commands/s and latencies."""
    pids = [clinic.patient() for _ in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    gate = threading.Barrier(clients + 1)

    def work(pid: str) -> None:
        mine = []
        gate.wait()
        try:
            for _ in range(per_client):
                mine.append(clinic.command(pid))
        except BaseException as exc:  # reported below: a benchmark must not hide errors
            errors.append(exc)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(pid,)) for pid in pids]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(latencies) / elapsed, latencies


def measure(report: Report, kind: str) -> None:
    with places(kind) as where:

        def clinic(window_ms: float) -> Clinic:
            return Clinic(
                Config(
                    database_url=where.url("w"),
                    run_projections=False,
                    group_commit_ms=window_ms,
                    pool_size=max(4, CLIENTS + 2),
                    checkpoint_dir=str(where.folder / "checkpoints"),
                )
            )

        raw, bare, one = [], [], []
        bare_p50, one_p50 = [], []
        for _ in range(REPEAT):
            raw.append(raw_inserts(where.url("raw"), COMMANDS))
            rate, lat = bare_saves(Config(database_url=where.url("bare")), COMMANDS)
            bare.append(rate)
            bare_p50.append(statistics.median(lat) * 1000)
            c = clinic(0)
            try:
                rate, lat = single_client(c, COMMANDS)
            finally:
                c.close()
            one.append(rate)
            one_p50.append(statistics.median(lat) * 1000)
        report.samples(f"{kind}: raw one-row INSERT transactions", raw, "/s")
        report.samples(f"{kind}: bare save(), one event each", bare, "/s")
        report.samples(f"{kind}: bare save() latency, median", bare_p50, "ms")
        report.samples(f"{kind}: one CareLog command (PHQ-9, rules, authorization)", one, "/s")
        report.samples(f"{kind}: one CareLog command latency, median", one_p50, "ms")
        report.add(
            f"{kind}: command / bare save() (medians)",
            statistics.median(one) / statistics.median(bare),
            "x",
        )
        report.add(
            f"{kind}: command / raw INSERT (medians)",
            statistics.median(one) / statistics.median(raw),
            "x",
        )

        runs: dict[str, list[float]] = {"off": [], "on": []}
        p99s: dict[str, list[float]] = {"off": [], "on": [], "single": []}
        for _ in range(REPEAT):
            for mode, window in (("off", 0.0), ("on", WINDOW_MS)):
                c = clinic(window)
                try:
                    rate, lat = concurrent(c, CLIENTS, PER_CLIENT)
                    runs[mode].append(rate)
                    p99s[mode].append(percentile(lat, 0.99) * 1000)
                    if mode == "on":
                        _, single = single_client(c, PER_CLIENT)
                        p99s["single"].append(percentile(single, 0.99) * 1000)
                finally:
                    c.close()
        for mode in ("off", "on"):
            label = "group commit on" if mode == "on" else "one save per command"
            report.samples(f"{kind}: {CLIENTS} clients, {label}", runs[mode], "commands/s")
            report.samples(f"{kind}: {CLIENTS} clients, {label}, p99", p99s[mode], "ms")
        report.samples(f"{kind}: 1 client, group commit on, p99", p99s["single"], "ms")
        report.add(
            f"{kind}: {CLIENTS} clients, group commit on / one save per command (medians)",
            statistics.median(runs["on"]) / statistics.median(runs["off"]),
            "x",
        )
        report.add(
            f"{kind}: {CLIENTS} clients, group commit on / bare save() (medians)",
            statistics.median(runs["on"]) / statistics.median(bare),
            "x",
        )
        report.add(
            f"{kind}: p99, {CLIENTS} clients with group commit / 1 client (medians)",
            statistics.median(p99s["on"]) / statistics.median(p99s["single"]),
            "x",
        )


def run(report: Report) -> None:
    report.text(
        "Targets (issue 9): one command at least 0.8x a bare save(); under 16 clients on "
        "PostgreSQL, group commit at least 3x the commands/s of one save per command, with "
        "p99 at most 2x the single-client p99."
    )
    for kind in STORES:
        measure(report, kind)
