"""The staff registry's table and its ordered migrations: who may sign in is found nowhere
else (not in the event log), so the table changes only by migration, never by rebuild.
"""

from __future__ import annotations

from projections.sql.table_migrations import Component, Migration

STAFF_TABLE = Component(
    "staff",
    (
        Migration(
            1,
            "the staff registry: accounts, roles and their token's hash",
            (
                """CREATE TABLE IF NOT EXISTS staff (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    prescriber INTEGER NOT NULL DEFAULT 0,
                    token_salt TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    active INTEGER NOT NULL DEFAULT 1,
                    created_at TEXT NOT NULL)""",
            ),
        ),
    ),
)
"""Who may sign in: found nowhere else, so changed only by migrations."""
