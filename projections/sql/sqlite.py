"""SQLite for the views and registries: WAL mode, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from projections.sql.database import Cursor, Database


class _SQLiteCursor(Cursor):
    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert (a view's batch): executemany, which SQLite runs fast."""
        marks = ", ".join("?" * len(columns))
        self._cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def upsert(
        self, table: str, keys: list[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """INSERT OR REPLACE: SQLite finds the rows to replace by their primary key."""
        marks = ", ".join("?" * len(columns))
        self._cur.executemany(
            f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (...)`` condition and its parameters."""
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)


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
