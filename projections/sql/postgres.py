"""PostgreSQL for the views and registries: a psycopg connection pool, ``?`` placeholders
translated to psycopg's, bulk writes by COPY."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from projections.sql.database import Cursor, Database

_PLACEHOLDER = re.compile(r"\?")


class _PostgresCursor(Cursor):
    def __init__(self, cur: Any, pipelined: bool = False) -> None:
        super().__init__(cur)
        self._pipelined = pipelined  # COPY cannot run in pipeline mode

    def translate(self, sql: str) -> str:
        return _PLACEHOLDER.sub("%s", sql)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert (a view's batch): one statement for a few rows, else COPY, several
        times faster than executemany."""
        if len(rows) <= SMALL or self._pipelined:
            self._cur.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_values(rows)}",
                [v for r in rows for v in r],
            )
            return
        with self._cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def upsert(
        self, table: str, keys: list[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """One statement for a few rows (the live case), delete then COPY for many."""
        if len(rows) <= SMALL or self._pipelined:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in keys)
            self._cur.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {_values(rows)}"
                f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
                [v for r in rows for v in r],
            )
            return
        arrays = [[row[list(columns).index(k)] for row in rows] for k in keys]
        if len(keys) == 1:
            self._cur.execute(f"DELETE FROM {table} WHERE {keys[0]} = ANY(%s)", arrays)
        else:  # composite keys are text columns
            self._cur.execute(
                f"DELETE FROM {table} WHERE ({', '.join(keys)}) IN"
                f" (SELECT * FROM unnest({', '.join(['%s::text[]'] * len(keys))}))",
                arrays,
            )
        self.insert_rows(table, columns, rows)

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column = ANY(?)`` condition (one plan whatever the number of values)."""
        return f"{column} = ANY(?)", [list(values)]


SMALL = 16
"""Up to this many rows, one INSERT statement beats COPY (fewer round trips)."""


def _values(rows: Sequence[Sequence[Any]]) -> str:
    row = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return ", ".join([row] * len(rows))


class PostgresDatabase(Database):
    """PostgreSQL through a psycopg connection pool."""

    dialect = "postgres"

    def __init__(self, url: str, pool_size: int = 5) -> None:
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.url = url
        conninfo, self.schema = split_schema(url)
        kwargs: dict[str, Any] = {"row_factory": dict_row, "autocommit": False}
        if self.schema:
            kwargs["options"] = f"-c search_path={self.schema}"
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max(pool_size, 2),
            open=True,
            kwargs=kwargs,
        )
        self._local = threading.local()

    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        outer = getattr(self._local, "conn", None)
        if outer is not None:
            with outer.cursor() as cur:
                yield _PostgresCursor(cur)
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield _PostgresCursor(cur)
            finally:
                self._local.conn = None

    @contextmanager
    def pipelined(self) -> Iterator[Cursor]:
        if getattr(self._local, "conn", None) is not None:
            with self.transaction() as cur:
                yield cur
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
                    yield _PostgresCursor(cur, pipelined=True)
            finally:
                self._local.conn = None

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A raw pooled connection (for LISTEN/NOTIFY and advisory locks)."""
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._pool.close()


def split_schema(url: str) -> tuple[str, str | None]:
    """Split CareLog's ``?schema=NAME`` URL parameter (tests use one schema each) off a
    PostgreSQL URL; psycopg would not understand it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema
