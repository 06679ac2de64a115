"""Ordered, versioned migrations for the tables that cannot be rebuilt from the log.

A view is rebuilt from the log when its schema changes (projections/migration.py), but the
staff registry, the sessions, the access log, the idempotency keys, the relay's and the
views' tracking rows hold facts found nowhere else: they change only through a
``Component``'s list of ``Migration``s, each applied once, in order, and the version
reached recorded per component in ``schema_versions``. Every migration not yet applied
runs in one transaction with the new version, so a store is at one version or the next,
never between. On PostgreSQL the transaction first takes an advisory lock, so two
processes starting at once apply each migration once (start-up also holds the schema
lock of services/storage/schema_lock.py around all of it); SQLite's ``BEGIN IMMEDIATE`` already
lets one writer in at a time.

Stores created before this runner have their tables but no recorded version: every step
is written to be a no-op on a table already in that shape (``CREATE ... IF NOT EXISTS``,
``add_column`` skips a column that is there), so such a store is adopted by running the
whole list once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from projections.sql.database import Cursor, Database

VERSIONS = "schema_versions"
"""The table recording each component's version: one row per component."""

Step = str | Callable[[Cursor, str], None]
"""SQL (``{BLOB}`` and ``{SERIAL}`` stand for the dialect's types), or a function of the
cursor and the dialect (``sqlite`` or ``postgres``)."""

TYPES = {
    "sqlite": {"{BLOB}": "BLOB", "{SERIAL}": "INTEGER PRIMARY KEY AUTOINCREMENT"},
    "postgres": {"{BLOB}": "BYTEA", "{SERIAL}": "BIGSERIAL PRIMARY KEY"},
}


@dataclass(frozen=True)
class Migration:
    """One change to a component's tables, applied once."""

    version: int
    why: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Component:
    """A group of tables that change together (usually the tables one module owns)."""

    name: str
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        versions = [m.version for m in self.migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"{self.name}: migrations must be numbered 1, 2, 3...: {versions}")

    @property
    def latest(self) -> int:
        return len(self.migrations)


def migrate(db: Database, component: Component, upto: int | None = None) -> int:
    """Apply ``component``'s migrations not applied yet (up to ``upto``, for tests that
    build an older store), in order; returns the version the store is now at."""
    with db.transaction() as cur:
        _lock(cur, db.dialect)
        return _migrate(cur, db.dialect, component, upto)


def migrate_all(db: Database, components: Iterable[Component]) -> None:
    """``migrate`` each component, in one transaction (start-up)."""
    with db.transaction() as cur:
        _lock(cur, db.dialect)
        for component in components:
            _migrate(cur, db.dialect, component, None)


def _lock(cur: Cursor, dialect: str) -> None:
    if dialect == "postgres":
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('carelog.schema_versions'))")


def _migrate(cur: Cursor, dialect: str, component: Component, upto: int | None) -> int:
    target = component.latest if upto is None else upto
    current = _version(cur, component.name)
    if current >= target:
        return current
    for migration in component.migrations[current:target]:
        for step in migration.steps:
            _run(cur, dialect, step)
    _record(cur, component.name, current, target)
    return target


def version(db: Database, component: str) -> int:
    """The version a component's tables are at (0: none applied)."""
    with db.transaction() as cur:
        return _version(cur, component)


def _version(cur: Cursor, component: str) -> int:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSIONS} (component TEXT PRIMARY KEY,"
        " version INTEGER NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = cur.execute(
        f"SELECT version FROM {VERSIONS} WHERE component = ?", (component,)
    ).fetchone()
    return int(row["version"]) if row else 0


def _record(cur: Cursor, component: str, was: int, now: int) -> None:
    at = datetime.now(UTC).isoformat()
    if was == 0:
        cur.execute(
            f"INSERT INTO {VERSIONS} (component, version, applied_at) VALUES (?, ?, ?)",
            (component, now, at),
        )
    else:
        cur.execute(
            f"UPDATE {VERSIONS} SET version = ?, applied_at = ? WHERE component = ?",
            (now, at, component),
        )


def _run(cur: Cursor, dialect: str, step: Step) -> None:
    if callable(step):
        step(cur, dialect)
        return
    for name, type_ in TYPES[dialect].items():
        step = step.replace(name, type_)
    cur.execute(step)


def columns(cur: Cursor, dialect: str, table: str) -> set[str]:
    """The names of a table's columns."""
    if dialect == "sqlite":
        return {r["name"] for r in cur.execute(f"PRAGMA table_info({table})").fetchall()}
    rows = cur.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = ? AND table_schema = current_schema()",
        (table,),
    ).fetchall()
    return {r["column_name"] for r in rows}


def add_column(table: str, column: str, type_: str) -> Callable[[Cursor, str], None]:
    """A step adding a column, skipped where the table has it already (a store created
    before migrations were recorded)."""

    def step(cur: Cursor, dialect: str) -> None:
        if column not in columns(cur, dialect, table):
            sql_type = TYPES[dialect].get(type_, type_)
            cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")

    return step
