"""The access log's table and its ordered migrations: its entries are found nowhere else, so it
changes only by migration, and triggers refuse every UPDATE and DELETE (append-only).
"""

from __future__ import annotations

from projections.sql.database import Cursor
from projections.sql.table_migrations import Component, Migration
from services.integrity.access_chain import ensure_hash_column

_APPEND_ONLY = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    ),
    "postgres": (
        "CREATE OR REPLACE FUNCTION access_log_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN"
        " RAISE EXCEPTION 'the access log is append-only'; END $$",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger"
        " WHERE tgname = 'access_log_append_only' AND tgrelid = 'access_log'::regclass) THEN"
        " CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only(); END IF; END $$",
    ),
}


def append_only(cur: Cursor, dialect: str) -> None:
    """The triggers that refuse UPDATE and DELETE (created unless they exist)."""
    for statement in _APPEND_ONLY[dialect]:
        cur.execute(statement)


ACCESS_LOG = Component(
    "access_log",
    (
        Migration(
            1,
            "the access log, append-only",
            (
                """CREATE TABLE IF NOT EXISTS access_log (
                    position {SERIAL},
                    at TEXT NOT NULL,
                    actor_id TEXT,
                    actor_role TEXT,
                    patient_id TEXT,
                    what TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    source TEXT NOT NULL,
                    allowed INTEGER NOT NULL,
                    flagged INTEGER NOT NULL,
                    reason TEXT,
                    kind TEXT NOT NULL DEFAULT 'read',
                    details TEXT)""",
                "CREATE INDEX IF NOT EXISTS ix_access_log_patient"
                " ON access_log (patient_id, position)",
                append_only,
            ),
        ),
        Migration(
            2,
            "the audit hash chain (services/integrity): a hash column, the entries already"
            " there sealed once (which drops a trigger for the update: made again after)",
            (ensure_hash_column, append_only),
        ),
    ),
)
"""The access log's tables: its entries are found nowhere else."""
