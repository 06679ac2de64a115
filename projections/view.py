"""What every view is: its tables, how a batch of items becomes rows, and a dump for diffs.

A view never names its tables directly when writing: it is given a ``Tables`` (the live
names, or a rebuild's fresh generation beside them), so the same projection code fills
the live tables incrementally and a rebuild's tables from zero. Indexes carry the
generation in their names because index names are global in both databases and a
rebuilt table keeps its index names when it is renamed into place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from projections.feed import EVENTS, Item
from projections.sql.database import Cursor, Database


class Tables:
    """Physical names for a view's tables in one generation."""

    def __init__(self, bases: Sequence[str], suffix: str = "", generation: int = 0) -> None:
        self.names = {base: base + suffix for base in bases}
        self.generation = generation

    def __getitem__(self, base: str) -> str:
        return self.names[base]

    def index(self, base: str, what: str) -> str:
        return f"ix_{base}_{what}_g{self.generation}"


def serial_key(db_or_dialect: Database | str) -> str:
    """An integer primary key that numbers rows in insert order."""
    dialect = db_or_dialect if isinstance(db_or_dialect, str) else db_or_dialect.dialect
    return "BIGSERIAL PRIMARY KEY" if dialect == "postgres" else "INTEGER PRIMARY KEY AUTOINCREMENT"


def fast_compression(cur: Cursor, db: Database, table: str, column: str) -> None:
    """PostgreSQL: compress a column of large JSON documents with lz4 when the server has
    it (PostgreSQL 14+), several times cheaper to write than the default pglz."""
    if db.dialect != "postgres":
        return
    found = cur.execute(
        "SELECT 1 AS ok FROM pg_settings WHERE name = 'default_toast_compression'"
        " AND 'lz4' = ANY(enumvals)"
    ).fetchone()
    if found is not None:
        cur.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


class View(ABC):
    """A read model kept in CareLog's views database and fed from one or more logs."""

    name: ClassVar[str]
    streams: ClassVar[tuple[str, ...]] = (EVENTS,)
    schema_version: ClassVar[int] = 1
    tables: ClassVar[tuple[str, ...]]
    order: ClassVar[dict[str, str]]
    """Per table, the ORDER BY that makes a dump comparable row for row."""
    volatile: ClassVar[dict[str, frozenset[str]]] = {}
    """Columns that legitimately differ between two builds (e.g. a sequence id)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.live = Tables(self.tables)

    def create(self, cur: Cursor, t: Tables) -> None:
        """Create the tables and their indexes under the names ``t`` gives."""
        self.create_tables(cur, t)
        self.create_indexes(cur, t)

    @abstractmethod
    def create_tables(self, cur: Cursor, t: Tables) -> None:
        """Create the tables, with the keys projecting relies on."""

    def create_indexes(self, cur: Cursor, t: Tables) -> None:  # noqa: B027 - not every view has any
        """Create the secondary indexes, which only readers use: a rebuild creates them
        after its bulk load, several times cheaper than keeping them up to date row by row."""

    @abstractmethod
    def project(self, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]) -> None:
        """Turn a batch of items into rows, inside the caller's transaction."""

    def forget(self, t: Tables) -> None:  # noqa: B027 - most views keep nothing in memory
        """Drop anything kept in memory for tables ``t`` (after a rebuild)."""

    def drop(self, cur: Cursor, t: Tables) -> None:
        for base in reversed(self.tables):
            cur.execute(f"DROP TABLE IF EXISTS {t[base]}")

    def dump(self, t: Tables | None = None) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, in a stable order, without volatile columns."""
        t = t or self.live
        out: dict[str, list[dict[str, Any]]] = {}
        with self.db.read() as cur:
            for base in self.tables:
                skip = self.volatile.get(base, frozenset())
                sql = f"SELECT * FROM {t[base]} ORDER BY {self.order[base]}"
                rows = cur.execute(sql).fetchall()
                out[base] = [{k: v for k, v in row.items() if k not in skip} for row in rows]
        return out
