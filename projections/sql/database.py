"""What the views and registries write to: a ``Database`` and its ``Cursor``.

SQL is written once with ``?`` placeholders and portable types (each backend translates
what it must: projections/sql/sqlite.py, projections/sql/postgres.py). A transaction is a
context manager: commit on success, rollback on any exception, so a view's rows and its
tracking position land together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

Row = dict[str, Any]


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
