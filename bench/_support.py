"""What several benchmark modules share: their settings from the environment, percentiles,
an empty store, and a CareLog on a fresh store."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.__main__ import smoke
from services.bootstrap import CareLog
from services.config import Config

PG_ADMIN_URL = os.environ.get("CARELOG_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def sized(name: str, small: int, full: int) -> int:
    """A count from the environment variable ``name``, else ``small`` for a smoke run
    (``CARELOG_BENCH_SMOKE=1``) and ``full`` for a real one."""
    return int(os.environ.get(name, str(small if smoke() else full)))


def stores(name: str, default: str = "sqlite,postgres") -> list[str]:
    """The stores a benchmark runs on: ``CARELOG_BENCH_<name>_STORES``, else ``default``."""
    chosen = os.environ.get(f"CARELOG_BENCH_{name}_STORES", default)
    return [s for s in chosen.split(",") if s]


def percentile(values: list[float], q: float) -> float:
    """The q-th quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def store(kind: str) -> Iterator[str]:
    """An empty event store URL: a SQLite file, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="carelog-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'carelog.db'}"
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_ADMIN_URL}?schema={schema}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def bench_carelog(where: Any, tag: str, **settings: Any) -> CareLog:
    """A CareLog on a fresh store of ``where`` (``bench.views_log.places``): no views thread,
    no group commit unless asked, checkpoints in the run's own folder."""
    values: dict[str, Any] = {"run_projections": False, "group_commit_ms": 0, **settings}
    return CareLog(
        Config(
            database_url=where.url(tag),
            checkpoint_dir=str(where.folder / "checkpoints"),
            **values,
        )
    )
