"""Where each view stands: its position per log, its schema generation, its quarantine.

One tracking row per (view, stream). A batch reads and locks that row inside its own
transaction (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the
database's write lock) and writes its rows only if the position is still the one it read
from; otherwise it is discarded. That makes processing exactly-once even with two runners
of the same view, or a rebuild swapping tables under a live runner.

A quarantined item is the first one a view could not project; its row says why and stays
until the code is fixed (the item then projects and the row is marked resolved) or an
operator skips it (recorded, with a reason, in the audit trail).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from projections.sql.database import Cursor, Database
from projections.sql.table_migrations import Component, Migration, add_column, migrate

TRACKING_TABLES = Component(
    "view_tracking",
    (
        Migration(
            1,
            "each view's position per log, its schema generation, its quarantined items",
            (
                """CREATE TABLE IF NOT EXISTS view_tracking (
                    name TEXT NOT NULL,
                    stream TEXT NOT NULL,
                    position BIGINT NOT NULL DEFAULT 0,
                    synced_at TEXT,
                    PRIMARY KEY (name, stream))""",
                """CREATE TABLE IF NOT EXISTS view_meta (
                    name TEXT PRIMARY KEY,
                    schema_version INTEGER NOT NULL,
                    generation INTEGER NOT NULL DEFAULT 0,
                    building INTEGER,
                    rebuilt_at TEXT)""",
                """CREATE TABLE IF NOT EXISTS view_quarantine (
                    name TEXT NOT NULL,
                    stream TEXT NOT NULL,
                    position BIGINT NOT NULL,
                    topic TEXT,
                    patient_id TEXT,
                    error TEXT NOT NULL,
                    trace TEXT,
                    attempts INTEGER NOT NULL DEFAULT 1,
                    first_seen_at TEXT NOT NULL,
                    last_seen_at TEXT NOT NULL,
                    status TEXT NOT NULL DEFAULT 'open',
                    resolved_by TEXT,
                    reason TEXT,
                    resolved_at TEXT,
                    PRIMARY KEY (name, stream, position))""",
            ),
        ),
        Migration(
            2,
            "a quarantined item's record version, so that skipping it skips that version",
            (add_column("view_quarantine", "originator_version", "INTEGER"),),
        ),
    ),
)
"""The views' control tables: not rebuilt with the views, so migrated in order."""


def now_text() -> str:
    return datetime.now(UTC).isoformat()


def create_control_tables(db: Database) -> None:
    migrate(db, TRACKING_TABLES)


class MissingTrackingError(RuntimeError):
    """A view's tracking row is gone (its tables were migrated away under a runner)."""


def lock_position(
    cur: Cursor, dialect: str, view: str, stream: str, relaxed_commit: bool = False
) -> int:
    """The view's position, its row locked until the transaction ends. ``relaxed_commit``
    (PostgreSQL): this transaction need not wait for the WAL flush at commit."""
    sql = "SELECT position FROM view_tracking WHERE name = ? AND stream = ?"
    if dialect == "postgres":
        if relaxed_commit:  # in the same round trip as the lock
            # custom plans: a view's tables grow from empty as it catches up, so a plan
            # cached while they were small (a sequential scan) must not stick.
            sql = sql.replace(
                "SELECT position",
                "SELECT position,"
                " set_config('synchronous_commit', 'off', true) AS relaxed,"
                " set_config('plan_cache_mode', 'force_custom_plan', true)"
                " AS planned",
            )
        sql += " FOR UPDATE"
    row = cur.execute(sql, (view, stream)).fetchone()
    if row is None:
        raise MissingTrackingError(f"no tracking row for {view}/{stream}")
    return int(row["position"])


def lock_positions(cur: Cursor, dialect: str, views: list[str], stream: str) -> dict[str, int]:
    """Several views' positions on one log, their rows locked until the transaction ends
    (in name order, so that two runners never wait on each other); PostgreSQL: the
    transaction need not wait for the WAL flush at commit (see ``lock_position``)."""
    marks = ",".join("?" * len(views))
    sql = f"SELECT name, position FROM view_tracking WHERE stream = ? AND name IN ({marks})"
    if dialect == "postgres":
        sql = sql.replace(
            "SELECT name, position",
            "SELECT name, position,"
            " set_config('synchronous_commit', 'off', true) AS relaxed,"
            " set_config('plan_cache_mode', 'force_custom_plan', true) AS planned",
        )
        sql += " ORDER BY name FOR UPDATE"
    rows = cur.execute(sql, (stream, *views)).fetchall()
    found = {r["name"]: int(r["position"]) for r in rows}
    missing = [v for v in views if v not in found]
    if missing:
        raise MissingTrackingError(f"no tracking row for {', '.join(missing)}/{stream}")
    return found


def set_position(
    cur: Cursor, view: str, stream: str, position: int, synced_at: str | None = None
) -> None:
    if synced_at is None:
        cur.execute(
            "UPDATE view_tracking SET position = ? WHERE name = ? AND stream = ?",
            (position, view, stream),
        )
    else:
        cur.execute(
            "UPDATE view_tracking SET position = ?, synced_at = ? WHERE name = ? AND stream = ?",
            (position, synced_at, view, stream),
        )


def reset_position(cur: Cursor, view: str, stream: str, position: int = 0) -> None:
    cur.execute("DELETE FROM view_tracking WHERE name = ? AND stream = ?", (view, stream))
    cur.execute(
        "INSERT INTO view_tracking (name, stream, position) VALUES (?, ?, ?)",
        (view, stream, position),
    )


def positions(db: Database, views: list[str]) -> dict[tuple[str, str], tuple[int, str | None]]:
    if not views:
        return {}
    marks = ",".join("?" * len(views))
    with db.read() as cur:
        rows = cur.execute(
            f"SELECT name, stream, position, synced_at FROM view_tracking WHERE name IN ({marks})",
            views,
        ).fetchall()
    return {(r["name"], r["stream"]): (int(r["position"]), r["synced_at"]) for r in rows}


# -- quarantine ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Quarantined:
    view: str
    stream: str
    position: int
    topic: str | None
    patient_id: str | None
    error: str
    attempts: int
    first_seen_at: str
    last_seen_at: str
    status: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def quarantine(
    db: Database,
    view: str,
    stream: str,
    position: int,
    topic: str | None,
    patient_id: str | None,
    version: int | None,
    exc: BaseException,
) -> None:
    """Record (or count again) the item a view cannot project."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    trace = "".join(traceback.format_exception(exc))[-8000:]
    now = now_text()
    with db.transaction() as cur:
        found = cur.execute(
            "SELECT attempts FROM view_quarantine WHERE name = ? AND stream = ? AND position = ?",
            (view, stream, position),
        ).fetchone()
        if found is None:
            cur.execute(
                "INSERT INTO view_quarantine (name, stream, position, topic, patient_id,"
                " originator_version, error, trace, attempts, first_seen_at, last_seen_at,"
                " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 'open')",
                (view, stream, position, topic, patient_id, version, error, trace, now, now),
            )
        else:
            cur.execute(
                "UPDATE view_quarantine SET error = ?, trace = ?, attempts = attempts + 1,"
                " last_seen_at = ?, status = 'open', resolved_by = NULL, reason = NULL,"
                " resolved_at = NULL WHERE name = ? AND stream = ? AND position = ?",
                (error, trace, now, view, stream, position),
            )


def open_quarantines(db: Database, view: str | None = None) -> list[Quarantined]:
    sql = (
        "SELECT name AS view, stream, position, topic, patient_id, error, attempts,"
        " first_seen_at, last_seen_at, status FROM view_quarantine WHERE status = 'open'"
    )
    params: tuple[Any, ...] = ()
    if view is not None:
        sql += " AND name = ?"
        params = (view,)
    with db.read() as cur:
        rows = cur.execute(sql + " ORDER BY name, stream, position", params).fetchall()
    return [Quarantined(**{**r, "position": int(r["position"])}) for r in rows]


def quarantine_status(db: Database, view: str, stream: str, position: int) -> str | None:
    with db.read() as cur:
        row = cur.execute(
            "SELECT status FROM view_quarantine WHERE name = ? AND stream = ? AND position = ?",
            (view, stream, position),
        ).fetchone()
    return None if row is None else str(row["status"])


def resolve_fixed(cur: Cursor, view: str, stream: str, up_to: int) -> None:
    """Items that now project (the code was fixed) are no longer quarantined."""
    cur.execute(
        "UPDATE view_quarantine SET status = 'resolved', resolved_at = ?,"
        " resolved_by = 'runner', reason = 'projected after a fix'"
        " WHERE name = ? AND stream = ? AND position <= ? AND status = 'open'",
        (now_text(), view, stream, up_to),
    )


def skipped_positions(db: Database, view: str) -> dict[str, set[int]]:
    with db.read() as cur:
        rows = cur.execute(
            "SELECT stream, position FROM view_quarantine WHERE name = ? AND status = 'skipped'",
            (view,),
        ).fetchall()
    out: dict[str, set[int]] = {}
    for row in rows:
        out.setdefault(row["stream"], set()).add(int(row["position"]))
    return out


def skipped_versions(db: Database, view: str, patient_id: str) -> set[int]:
    """Versions of a patient's record an operator skipped in this view."""
    with db.read() as cur:
        rows = cur.execute(
            "SELECT originator_version FROM view_quarantine WHERE name = ?"
            " AND patient_id = ? AND status = 'skipped'"
            " AND originator_version IS NOT NULL",
            (view, patient_id),
        ).fetchall()
    return {int(r["originator_version"]) for r in rows}
