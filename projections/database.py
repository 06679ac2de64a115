"""A small SQL layer over SQLite and PostgreSQL for the views and CareLog's own tables.

SQL is written once with ``?`` placeholders and portable types; this module translates the
placeholders for psycopg. SQLite runs in WAL mode with one connection per thread;
PostgreSQL uses a connection pool. A transaction is a context manager: commit on success,
rollback on any exception, so a view's rows and its tracking position land together or not
at all.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

Row = dict[str, Any]
_PLACEHOLDER = re.compile(r"\?")


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...
    def replace_rows(
        self,
        table: str,
        key: str | Sequence[str],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None: ...
    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]: ...
    def fetchone(self) -> Row | None: ...
    def fetchall(self) -> list[Row]: ...
    @property
    def rowcount(self) -> int: ...


class Database:
    """A database the views and registries write to."""

    dialect: str
    url: str

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:  # pragma: no cover - interface
        raise NotImplementedError
        yield

    def in_transaction(self) -> bool:  # pragma: no cover - interface
        """This thread is inside one of this database's transactions (a new one would
        join it, and commit or roll back with it)."""
        raise NotImplementedError

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """A transaction for reading only: on SQLite it takes no write lock, so readers
        never queue behind a view's batch; elsewhere it is an ordinary transaction."""
        with self.transaction() as cur:
            yield cur

    @contextmanager
    def pipelined(self) -> Iterator[Cursor]:
        """A transaction whose statements PostgreSQL receives without waiting for each
        reply (until a result is fetched): a few round trips instead of one a statement.
        No COPY inside. Elsewhere an ordinary transaction."""
        with self.transaction() as cur:
            yield cur

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as cur:
            return cur.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction() as cur:
            cur.execute(sql, params)

    def close(self) -> None:  # pragma: no cover - interface
        pass

    def table_exists(self, name: str) -> bool:
        if self.dialect == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type='table' AND name=?"
        else:
            sql = "SELECT tablename AS name FROM pg_tables WHERE tablename=?"
        return self.query_one(sql, (name,)) is not None


class _SQLiteCursor:
    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _SQLiteCursor:
        self._cur.execute(sql, tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(sql, rows)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert (a view's batch): executemany, which SQLite runs fast."""
        marks = ", ".join("?" * len(columns))
        self._cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def replace_rows(
        self,
        table: str,
        key: str | Sequence[str],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Bulk upsert of whole rows by their primary key ``key`` (a column or several)."""
        marks = ", ".join("?" * len(columns))
        self._cur.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (...)`` condition and its parameters."""
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def fetchone(self) -> Row | None:
        row = self._cur.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class SQLiteDatabase(Database):
    """SQLite in WAL mode; ``BEGIN IMMEDIATE`` so writers queue instead of deadlocking."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.url = f"sqlite:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def in_transaction(self) -> bool:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        return conn is not None and conn.in_transaction

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield _SQLiteCursor(conn.cursor())
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        conn = self._connection()
        if conn.in_transaction:
            yield _SQLiteCursor(conn.cursor())
            return
        conn.execute("BEGIN")
        try:
            yield _SQLiteCursor(conn.cursor())
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class _PostgresCursor:
    def __init__(self, cur: Any, pipelined: bool = False) -> None:
        self._cur = cur
        self._pipelined = pipelined  # COPY cannot run in pipeline mode

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _PostgresCursor:
        self._cur.execute(_PLACEHOLDER.sub("%s", sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(_PLACEHOLDER.sub("%s", sql), rows)

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

    def replace_rows(
        self,
        table: str,
        key: str | Sequence[str],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Bulk upsert of whole rows by their primary key ``key`` (a column or several):
        one statement for a few rows (the live case), delete then COPY for many."""
        keys = [key] if isinstance(key, str) else list(key)
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

    def fetchone(self) -> Row | None:
        row = self._cur.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


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


def connect(url: str, pool_size: int = 5) -> Database:
    """Open the database a URL names: ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url, pool_size)
    if url.startswith("sqlite:///"):
        return SQLiteDatabase(unquote(url[len("sqlite:///") :]))
    raise ValueError(f"Unsupported database URL {url!r}: use sqlite:/// or postgresql://")
