"""The pages' sign-in sessions, kept as server-side records.

The browser's cookie carries only a random session secret; the database keeps its SHA-256,
the staff member, the hash of the token they signed in with and when the session ends. So
signing out ends the session for every copy of the cookie, and so does deactivating the
account or rotating its token (the stored token hash no longer matches), in every server
process at once: each page request reads its session row, one primary-key lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from projections.sql.database import Database
from projections.sql.table_migrations import Component, Migration, migrate

SESSION_TABLE = Component(
    "staff_session",
    (
        Migration(
            1,
            "the pages' sign-in sessions",
            (
                """CREATE TABLE IF NOT EXISTS staff_session (
                    id TEXT PRIMARY KEY,
                    staff_id TEXT NOT NULL,
                    token_hash TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    expires_at TEXT NOT NULL,
                    ended_at TEXT)""",
                "CREATE INDEX IF NOT EXISTS ix_staff_session_staff ON staff_session (staff_id)",
            ),
        ),
    ),
)


def _stamp(when: datetime) -> str:
    """Fixed-width UTC text, so text order is time order in both databases."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class StaffSessions:
    """Start, look up and end page sessions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db, SESSION_TABLE)

    def start(self, staff_id: str, token_hash: str, lifetime: timedelta) -> str:
        """A new session's secret (for the cookie; only its hash is stored)."""
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM staff_session WHERE expires_at < ?", (_stamp(now),))
            cur.execute(
                "INSERT INTO staff_session (id, staff_id, token_hash, started_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (_key(secret), staff_id, token_hash, _stamp(now), _stamp(now + lifetime)),
            )
        return secret

    def current(self, secret: str) -> dict[str, Any] | None:
        """The staff row of a session still running, or None (unknown, ended, expired,
        the account deactivated or its token rotated since sign-in)."""
        if not secret or len(secret) > 256:
            return None
        row = self.db.query_one(
            "SELECT s.token_hash AS session_token_hash, s.expires_at, s.ended_at,"
            " st.id, st.name, st.role, st.prescriber, st.active, st.created_at, st.token_hash"
            " FROM staff_session s JOIN staff st ON st.id = s.staff_id WHERE s.id = ?",
            (_key(secret),),
        )
        if (
            row is None
            or row["ended_at"] is not None
            or row["expires_at"] <= _stamp(datetime.now(UTC))
            or not row["active"]
            or row["token_hash"] != row["session_token_hash"]
        ):
            return None
        return row

    def end(self, secret: str) -> None:
        """Sign-out: the session ends for every copy of its cookie."""
        self.db.execute(
            "UPDATE staff_session SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            (_stamp(datetime.now(UTC)), _key(secret)),
        )

    def end_all(self, staff_id: str) -> None:
        """Every session of a staff member (deactivation, a new token)."""
        self.db.execute(
            "UPDATE staff_session SET ended_at = ? WHERE staff_id = ? AND ended_at IS NULL",
            (_stamp(datetime.now(UTC)), staff_id),
        )
