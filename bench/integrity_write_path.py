"""The integrity benchmark's write path (``bench/integrity.py``): the chaining recorders with
their chain step timed, the library's plain ones for the baseline, and the command,
insert and fill loops timed over them.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from services.integrity.chained_postgres import ChainedPostgresApplicationRecorder
from services.integrity.chained_sqlite import ChainedSQLiteApplicationRecorder
from tests.patient_writes import register


@dataclass(frozen=True)
class UnchainedConfig(Config):
    """The same configuration with the library's own recorders: the baseline."""

    def eventsourcing_env(self) -> dict[str, str]:
        env = super().eventsourcing_env()
        env.pop("APPLICATION_RECORDER_TOPIC", None)
        return env


CHAIN_STEPS: list[float] = []  # seconds each chaining step took, inside its transaction


class TimedSQLiteRecorder(ChainedSQLiteApplicationRecorder):
    """The chaining recorder, timing the chain step it adds to each write transaction."""

    def _append_links(self, *args: Any) -> None:
        began = time.perf_counter()
        super()._append_links(*args)
        CHAIN_STEPS.append(time.perf_counter() - began)


class TimedPostgresRecorder(ChainedPostgresApplicationRecorder):
    def _append_links(self, *args: Any) -> None:
        began = time.perf_counter()
        super()._append_links(*args)
        CHAIN_STEPS.append(time.perf_counter() - began)


@dataclass(frozen=True)
class TimedConfig(Config):
    """The chaining recorders, with their chain step timed."""

    def eventsourcing_env(self) -> dict[str, str]:
        env = super().eventsourcing_env()
        kind = "Postgres" if self.is_postgres else "SQLite"
        env["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:Timed{kind}Recorder"
        return env


@contextmanager
def carelog_on(url: str, folder: Path, chained: bool = True) -> Iterator[CareLog]:
    cls = TimedConfig if chained else UnchainedConfig
    config = cls(
        database_url=url,
        checkpoint_dir=str(folder / "checkpoints"),
        run_projections=False,
        group_commit_ms=0,
        pool_size=8,
    )
    carelog = CareLog(config)
    try:
        yield carelog
    finally:
        carelog.close()


def command_rate(carelog: CareLog, threads: int, writes: int) -> float:
    """add_note commands per second, each thread writing to its own patient."""
    staff, _ = carelog.staff.add("Bench psychiatrist", "psychiatrist", False)
    ctx = CommandContext(staff.actor)
    patients = [
        register(carelog, ctx, f"MRN-BENCH-{uuid.uuid4().hex[:8]}", "Bench Patient")
        for _ in range(threads)
    ]
    per_thread = writes // threads

    def work(pid: str) -> None:
        for i in range(per_thread):
            carelog.commands.execute(
                ctx, pid, c.AddNote(kind="progress", modality="supportive", text=f"Bench note {i}.")
            )

    workers = [threading.Thread(target=work, args=(pid,)) for pid in patients]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return per_thread * threads / (time.perf_counter() - began)


def fill(carelog: CareLog, events: int, batch: int = 500) -> None:
    """Append ``events`` events of a real note's size through the chaining recorder."""
    notes = carelog.app.recorder.select_notifications(start=None, limit=10_000)
    sample = max(notes, key=lambda n: len(n.state))
    written = 0
    while written < events:
        size = min(batch, events - written)
        originator = uuid.uuid4()
        carelog.app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=originator,
                    originator_version=v + 1,
                    topic=sample.topic,
                    state=sample.state,
                )
                for v in range(size)
            ]
        )
        written += size


def storage_rate(carelog: CareLog, writes: int) -> float:
    """Single-event inserts per second (one transaction each, as one command's save)."""
    sample = carelog.app.recorder.select_notifications(start=None, limit=1)[0]
    began = time.perf_counter()
    for _ in range(writes):
        carelog.app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=uuid.uuid4(),
                    originator_version=1,
                    topic=sample.topic,
                    state=sample.state,
                )
            ]
        )
    return writes / (time.perf_counter() - began)


def paired_insert_latency(plain: CareLog, chained: CareLog, pairs: int) -> dict[str, list[float]]:
    """Seconds per single-event insert, plain and chained one after the other (order
    alternating), so both see the same moment's load."""
    sample = chained.app.recorder.select_notifications(start=None, limit=1)[0]
    latency: dict[str, list[float]] = {"plain": [], "chained": []}
    order = [("plain", plain), ("chained", chained)]
    for n in range(pairs):
        for mode, carelog in order if n % 2 else order[::-1]:
            event = StoredEvent(
                originator_id=uuid.uuid4(),
                originator_version=1,
                topic=sample.topic,
                state=sample.state,
            )
            began = time.perf_counter()
            carelog.app.recorder.insert_events([event])
            latency[mode].append(time.perf_counter() - began)
    return latency


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began
