"""The views benchmark's log and stores: the synthetic history it catches up over, and
the fresh SQLite files or PostgreSQL schemas it builds it in (``bench/views.py``; the
history, writes and scale benchmarks take their stores from here too).

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import StoredEvent

from bench._support import PG_ADMIN_URL
from projections.feed import is_ignored
from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.config import Config

INTERLEAVE = 50


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
