"""The access log's hash chain: each entry's ``hash`` column links it to the one before.

``AccessLog._insert`` (services/access/access_log.py) calls ``chain_entries`` inside its insert
transaction, which already serialises writers (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL:
the EXCLUSIVE table lock). The entry's position is taken from the sequence there and its
link computed before the row is written, so the row is inserted once, whole: the
append-only triggers never have to allow an update.

The fields covered are ``ACCESS_FIELDS``, in that order: a column added to the access log
later must be added here (at the end) to be covered.
"""

from __future__ import annotations

from typing import Any

from projections.sql.database import Cursor, Database
from services.integrity.chain import ACCESS_TAG, GENESIS, fields_bytes, link

ACCESS_FIELDS = (
    "at",
    "actor_id",
    "actor_role",
    "patient_id",
    "what",
    "request_id",
    "source",
    "allowed",
    "flagged",
    "reason",
    "kind",
    "details",
)
_HASH_TYPE = {"sqlite": "BLOB", "postgres": "BYTEA"}
_COLUMNS = ", ".join(("position", *ACCESS_FIELDS))


def access_bytes(row: dict[str, Any]) -> bytes:
    """The canonical bytes of one access-log entry (its position is added by ``link``)."""
    return fields_bytes(ACCESS_TAG, tuple(row.get(name) for name in ACCESS_FIELDS))


def ensure_hash_column(cur: Cursor, dialect: str) -> None:
    """Add the ``hash`` column to an access log created before it was chained, and seal
    the entries already there (once, on upgrade; README, "Audit review").

    A step of the access log's migration 2 (services/access/access_log.py), run *before* that
    migration creates its append-only triggers again, so the one-off sealing update may
    drop them first. Skipped where the column is there (a store created before migration
    versions were recorded).
    """
    if dialect == "postgres":
        found = cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = "
            "'access_log' AND column_name = 'hash' AND table_schema = "
            "current_schema()"
        ).fetchone()
    else:
        found = next(
            (
                r
                for r in cur.execute("PRAGMA table_info(access_log)").fetchall()
                if r["name"] == "hash"
            ),
            None,
        )
    if found is not None:
        return
    cur.execute(f"ALTER TABLE access_log ADD COLUMN hash {_HASH_TYPE[dialect]}")
    rows = cur.execute(f"SELECT {_COLUMNS} FROM access_log ORDER BY position").fetchall()
    if not rows:
        return
    if dialect == "postgres":
        cur.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
    else:
        cur.execute("DROP TRIGGER IF EXISTS access_log_no_update")
    previous = GENESIS
    for row in rows:
        previous = link(previous, row["position"], access_bytes(row))
        cur.execute(
            "UPDATE access_log SET hash = ? WHERE position = ?", (previous, row["position"])
        )


def chain_entries(cur: Cursor, dialect: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their ``position`` and ``hash`` decided, to insert as they are.

    Must run in the insert's transaction, after the writers' lock is taken. One query asks
    for the head's hash and every position at once (one round trip for a batch).
    """
    if not rows:
        return []
    head_hash = (
        "(SELECT hash FROM access_log WHERE hash IS NOT NULL ORDER BY position DESC LIMIT 1)"
    )
    if dialect == "postgres":
        found = cur.execute(
            f"SELECT nextval(pg_get_serial_sequence('access_log', 'position')) AS next,"
            f" {head_hash} AS hash FROM generate_series(1, ?) ORDER BY 1",
            (len(rows),),
        ).fetchall()
        positions = [int(f["next"]) for f in found]
        head = found[0]["hash"]
    else:  # AUTOINCREMENT: the next position is one past the highest ever issued
        found_one = cur.execute(
            "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'access_log') AS seq,"
            f" {head_hash} AS hash"
        ).fetchone()
        first = (int(found_one["seq"]) if found_one and found_one["seq"] else 0) + 1
        positions = list(range(first, first + len(rows)))
        head = found_one["hash"] if found_one else None
    previous = bytes(head) if head is not None else GENESIS
    chained = []
    for position, row in zip(positions, rows, strict=True):
        previous = link(previous, position, access_bytes(row))
        chained.append({"position": position, **row, "hash": previous})
    return chained


class AccessChainSource:
    """The access log as a chain the verifier walks (see services/integrity/walk.py).

    An entry without a hash is a record the chain does not know: ``carelog verify``
    reports it as forged (entries written before chaining existed included).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def select_chain_records(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM access_log WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            ).fetchall()
        return [(r["position"], access_bytes(r)) for r in rows if r["position"] <= upto]

    def select_chain_links(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        with self.db.read() as cur:
            rows = cur.execute(
                "SELECT position, hash FROM access_log WHERE position > ? AND "
                "position <= ? AND hash IS NOT NULL ORDER BY position",
                (after, upto),
            ).fetchall()
        return [(r["position"], bytes(r["hash"])) for r in rows]

    def chain_link_before(self, position: int) -> tuple[int, bytes] | None:
        row = self.db.query_one(
            "SELECT position, hash FROM access_log WHERE position < ? "
            "AND hash IS NOT NULL ORDER BY position DESC LIMIT 1",
            (position,),
        )
        return (int(row["position"]), bytes(row["hash"])) if row else None

    def chain_max_position(self) -> int:
        row = self.db.query_one("SELECT MAX(position) AS last FROM access_log")
        return int(row["last"] or 0) if row else 0
