"""The key table: wrapped data keys (DEKs) and the key-encryption keys (KEKs) that wrap them.

It lives in the event store's database (beside the events, so a backup of the store
carries it), in tables that cannot be rebuilt from anything: they change only through
the ordered migrations below (``KEY_TABLES``), each applied once, in order, recorded in
``schema_versions`` by projections/sql/table_migrations.py (under an advisory lock on
PostgreSQL, so two processes starting at once never both apply one).

``carelog_data_keys``: one row per subject (a patient's id; ``legacy`` for the store-wide
key of stores encrypted before envelope encryption; ``store`` for anything that belongs
to no patient). ``wrapped`` is the DEK encrypted under the KEK named by ``kek_id``;
erasure sets both to NULL and keeps who erased it, when and why (the tombstone readers
show). ``carelog_keks``: each KEK ever configured, with a fingerprint (an HMAC of a fixed
text under the key, so a wrong key is told from the right one without storing it) and
when it was retired.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.sql.database import Cursor, Database
from projections.sql.table_migrations import Component, Migration
from projections.sql.table_migrations import migrate as apply_migrations

DATA_KEYS = "carelog_data_keys"
KEKS = "carelog_keks"
LEGACY_VERSIONS = "carelog_key_schema"
"""Where the key table's version was recorded before projections/sql/table_migrations.py: a
store that has it is adopted by running the list again (its steps are IF NOT EXISTS)."""

KEY_TABLES = Component(
    "keys",
    (
        Migration(
            1,
            "wrapped data keys per subject, and the KEKs that wrap them",
            (
                f"CREATE TABLE IF NOT EXISTS {DATA_KEYS} (subject_id TEXT PRIMARY KEY, "
                "kek_id TEXT, wrapped {BLOB}, created_at TEXT NOT NULL, erased_at TEXT, "
                "erased_by TEXT, erased_reason TEXT)",
                f"CREATE INDEX IF NOT EXISTS ix_{DATA_KEYS}_kek ON {DATA_KEYS} (kek_id)",
                f"CREATE TABLE IF NOT EXISTS {KEKS} (kek_id TEXT PRIMARY KEY, "
                "fingerprint TEXT NOT NULL, added_at TEXT NOT NULL, retired_at TEXT)",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class DataKeyRow:
    subject_id: str
    kek_id: str | None
    wrapped: bytes | None
    erased_at: str | None
    erased_by: str | None
    erased_reason: str | None


def migrate(db: Database) -> int:
    """Apply the migrations not applied yet, in order; returns the schema version."""
    return apply_migrations(db, KEY_TABLES)


def _row(r: Any) -> DataKeyRow:
    wrapped = r["wrapped"]
    return DataKeyRow(
        str(r["subject_id"]),
        r["kek_id"],
        bytes(wrapped) if wrapped is not None else None,
        r["erased_at"],
        r["erased_by"],
        r["erased_reason"],
    )


class KeyTable:
    """Reads and writes of the key table (``migrate`` first)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, subject_id: str) -> DataKeyRow | None:
        row = self.db.query_one(f"SELECT * FROM {DATA_KEYS} WHERE subject_id = ?", (subject_id,))
        return _row(row) if row is not None else None

    def insert(self, subject_id: str, kek_id: str, wrapped: bytes, now: datetime) -> None:
        """Add a data key unless the subject has one already (another process's wins)."""
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {DATA_KEYS} (subject_id, kek_id, wrapped, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (subject_id) DO NOTHING",
                (subject_id, kek_id, wrapped, now.isoformat()),
            )

    def wrapped_by(self, kek_id: str) -> list[DataKeyRow]:
        return [
            _row(r)
            for r in self.db.query(
                f"SELECT * FROM {DATA_KEYS} WHERE kek_id = ? AND wrapped IS NOT NULL", (kek_id,)
            )
        ]

    def rewrap(
        self, cur: Cursor, subject_id: str, old_kek: str, kek_id: str, wrapped: bytes
    ) -> bool:
        """Replace a wrapping, only if it is still the one read (not erased meanwhile)."""
        cur.execute(
            f"UPDATE {DATA_KEYS} SET kek_id = ?, wrapped = ? "
            "WHERE subject_id = ? AND kek_id = ? AND wrapped IS NOT NULL",
            (kek_id, wrapped, subject_id, old_kek),
        )
        return cur.rowcount == 1

    def erase(self, subject_id: str, when: datetime, by: str, reason: str) -> bool:
        """Destroy a data key: the wrapped bytes are gone, the tombstone stays."""
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {DATA_KEYS} SET wrapped = NULL, kek_id = NULL, erased_at = ?, "
                "erased_by = ?, erased_reason = ? WHERE subject_id = ? AND wrapped IS NOT NULL",
                (when.isoformat(), by, reason, subject_id),
            )
            return cur.rowcount == 1

    def erased(self) -> list[DataKeyRow]:
        return [
            _row(r)
            for r in self.db.query(
                f"SELECT * FROM {DATA_KEYS} WHERE erased_at IS NOT NULL ORDER BY erased_at"
            )
        ]

    # -- KEKs ------------------------------------------------------------------------------
    def keks(self) -> list[dict[str, Any]]:
        """Each KEK known to the store, with how many live data keys it wraps."""
        rows = self.db.query(
            f"SELECT k.kek_id, k.fingerprint, k.added_at, k.retired_at, "
            f"(SELECT COUNT(*) FROM {DATA_KEYS} d WHERE d.kek_id = k.kek_id "
            "AND d.wrapped IS NOT NULL) AS data_keys "
            f"FROM {KEKS} k ORDER BY k.added_at, k.kek_id"
        )
        return [dict(r) for r in rows]

    def kek(self, kek_id: str) -> dict[str, Any] | None:
        row = self.db.query_one(f"SELECT * FROM {KEKS} WHERE kek_id = ?", (kek_id,))
        return dict(row) if row is not None else None

    def add_kek(self, kek_id: str, fingerprint: str, now: datetime) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {KEKS} (kek_id, fingerprint, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (kek_id) DO NOTHING",
                (kek_id, fingerprint, now.isoformat()),
            )

    def retire_kek(self, kek_id: str, now: datetime) -> int:
        """Mark a KEK retired if no live data key needs it; returns how many still do."""
        with self.db.transaction() as cur:
            needed = cur.execute(
                f"SELECT COUNT(*) AS n FROM {DATA_KEYS} WHERE kek_id = ? AND wrapped IS NOT NULL",
                (kek_id,),
            ).fetchone()
            count = int(needed["n"]) if needed else 0
            if count == 0:
                cur.execute(
                    f"UPDATE {KEKS} SET retired_at = ? WHERE kek_id = ? AND retired_at IS NULL",
                    (now.isoformat(), kek_id),
                )
            return count


# -- moving the key table with a log export (services/integrity/log_export.py, log_import.py) ----
def export_rows(table: KeyTable, subject_id: str | None = None) -> dict[str, Any]:
    """The key table as JSON: wrapped DEKs (base64; useless without the KEKs) and erasure
    tombstones, and each KEK's id and fingerprint (never the key)."""
    where, params = ("WHERE subject_id = ?", (subject_id,)) if subject_id else ("", ())
    data_keys = [
        {
            "subject_id": r["subject_id"],
            "kek_id": r["kek_id"],
            "wrapped": base64.b64encode(bytes(r["wrapped"])).decode() if r["wrapped"] else None,
            "created_at": r["created_at"],
            "erased_at": r["erased_at"],
            "erased_by": r["erased_by"],
            "erased_reason": r["erased_reason"],
        }
        for r in table.db.query(f"SELECT * FROM {DATA_KEYS} {where} ORDER BY subject_id", params)
    ]
    keks = [
        {k: r[k] for k in ("kek_id", "fingerprint", "added_at", "retired_at")}
        for r in table.db.query(f"SELECT * FROM {KEKS} ORDER BY kek_id")
    ]
    return {"data_keys": data_keys, "keks": keks}


def import_rows(table: KeyTable, exported: dict[str, Any]) -> int:
    """Add an export's KEK records and wrapped DEKs to this (empty) store's key table."""
    with table.db.transaction() as cur:
        for k in exported.get("keks") or []:
            cur.execute(
                f"INSERT INTO {KEKS} (kek_id, fingerprint, added_at, retired_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (kek_id) DO NOTHING",
                (k["kek_id"], k["fingerprint"], k["added_at"], k.get("retired_at")),
            )
        rows = exported.get("data_keys") or []
        for d in rows:
            wrapped = base64.b64decode(d["wrapped"]) if d.get("wrapped") else None
            cur.execute(
                f"INSERT INTO {DATA_KEYS} (subject_id, kek_id, wrapped, created_at, erased_at, "
                "erased_by, erased_reason) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (subject_id) DO NOTHING",
                (
                    d["subject_id"],
                    d.get("kek_id"),
                    wrapped,
                    d["created_at"],
                    d.get("erased_at"),
                    d.get("erased_by"),
                    d.get("erased_reason"),
                ),
            )
        return len(rows)
