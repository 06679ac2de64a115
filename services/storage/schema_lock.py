"""One process at a time creates CareLog's tables, functions and triggers at start-up.

``CREATE TABLE IF NOT EXISTS`` and ``CREATE OR REPLACE FUNCTION`` are not safe to run at
the same moment from two sessions: PostgreSQL answers one of them "tuple concurrently
updated" (or a duplicate key in its catalogue), and a ``carelog serve`` started beside
another died at boot (red-team F7). So start-up schema work runs under a session advisory
lock on a fixed key, taken on a connection of its own and released when done. SQLite
needs none: it takes one writer at a time anyway.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from projections.sql.postgres import split_schema
from services.config import Config

SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"carelog-schema").digest()[:8], "big", signed=True)
"""The advisory lock key every CareLog process takes around its schema creation."""


@contextlib.contextmanager
def schema_lock(config: Config) -> Iterator[None]:
    """Hold the schema advisory lock (PostgreSQL) for the duration of the block."""
    if not config.is_postgres:
        yield
        return
    import psycopg

    conninfo, _ = split_schema(config.database_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
