"""What the views and registries write to: a ``Database`` and its ``Cursor``.

SQL is written once with ``?`` placeholders and portable types (each backend translates
what it must: projections/sql/sqlite.py, projections/sql/postgres.py). A transaction is a
context manager: commit on success, rollback on any exception, so a view's rows and its
tracking position land together or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self

Row = dict[str, Any]


class Cursor(ABC):
    """A cursor as the views and registries use it: ``?`` placeholders, rows as dicts.
    Each backend wraps its driver's cursor and says how it writes rows in bulk (and, where
    the driver's placeholders differ, how a statement is translated)."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    def translate(self, sql: str) -> str:
        """The statement in the driver's placeholders (``?`` is the default)."""
        return sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Self:
        self._cur.execute(self.translate(sql), tuple(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cur.executemany(self.translate(sql), rows)

    @abstractmethod
    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Bulk insert (a view's batch)."""

    def replace_rows(
        self,
        table: str,
        key: str | Sequence[str],
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Bulk upsert of whole rows by their primary key ``key`` (a column or several)."""
        self.upsert(table, [key] if isinstance(key, str) else list(key), columns, rows)

    @abstractmethod
    def upsert(
        self, table: str, keys: list[str], columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """``replace_rows``, with the key's columns as a list."""

    @abstractmethod
    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition that ``column`` is one of ``values``, and its parameters."""

    def fetchone(self) -> Row | None:
        row = self._cur.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Row]:
        return [dict(r) for r in self._cur.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


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
