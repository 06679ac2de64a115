"""What a page session signed in through the provider keeps, to ask the provider again.

Beside the ordinary session record (services/access/staff_sessions.py) an SSO session keeps the
provider's tokens (refresh, access and ID token) and when it was last confirmed. The
tokens are encrypted (AES-GCM) under a key derived from the session's secret, which only
the browser's cookie holds (the database has its hash): a copy of the database gives no
usable refresh token.

Every ``interval`` seconds the next page request re-asks the provider: a refresh-token
grant (or, without one, the userinfo endpoint). One request wins the right to ask (a
conditional update), so concurrent clicks never spend one refresh token twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from projections.sql.database import Database
from projections.sql.table_migrations import Component, Migration, migrate

OIDC_SESSION_TABLE = Component(
    "staff_session_oidc",
    (
        Migration(
            1,
            "an SSO page session's provider tokens (sealed) and its check schedule",
            (
                """CREATE TABLE IF NOT EXISTS staff_session_oidc (
                    session_id TEXT PRIMARY KEY,
                    subject TEXT NOT NULL,
                    tokens TEXT NOT NULL,
                    confirmed_at DOUBLE PRECISION NOT NULL,
                    next_check_at DOUBLE PRECISION NOT NULL)""",
            ),
        ),
    ),
)
RETRY_SECONDS = 5.0
"""After a failed attempt to reach the provider, the next request tries again this late."""


def session_id(secret: str) -> str:
    """The session record's id: the SHA-256 of the cookie's secret (as staff_session)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _cipher(secret: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"carelog-oidc-session-tokens\0" + secret.encode()).digest())


def seal(secret: str, tokens: dict[str, Any]) -> str:
    nonce = os.urandom(12)
    return (nonce + _cipher(secret).encrypt(nonce, json.dumps(tokens).encode(), None)).hex()


def unseal(secret: str, sealed: str) -> dict[str, Any] | None:
    try:
        raw = bytes.fromhex(sealed)
        found = json.loads(_cipher(secret).decrypt(raw[:12], raw[12:], None))
    except (ValueError, InvalidTag):
        return None
    return found if isinstance(found, dict) else None


class OidcSessions:
    """The provider's tokens of SSO page sessions, and their check schedule."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db, OIDC_SESSION_TABLE)

    def add(self, secret: str, subject: str, tokens: dict[str, Any], interval: float) -> None:
        now = time.time()
        with self.db.transaction() as cur:
            # Rows of sessions that have gone (signed out, expired, cleaned up) go too.
            cur.execute(
                "DELETE FROM staff_session_oidc WHERE session_id NOT IN"
                " (SELECT id FROM staff_session WHERE ended_at IS NULL)"
            )
            cur.execute(
                "INSERT INTO staff_session_oidc (session_id, subject, tokens, confirmed_at,"
                " next_check_at) VALUES (?, ?, ?, ?, ?)",
                (session_id(secret), subject, seal(secret, tokens), now, now + interval),
            )

    def get(self, secret: str) -> dict[str, Any] | None:
        return self.db.query_one(
            "SELECT * FROM staff_session_oidc WHERE session_id = ?", (session_id(secret),)
        )

    def claim_check(self, row: dict[str, Any]) -> bool:
        """True for the one request that gets to ask the provider now."""
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE staff_session_oidc SET next_check_at = ? WHERE session_id = ?"
                " AND next_check_at = ?",
                (time.time() + RETRY_SECONDS, row["session_id"], row["next_check_at"]),
            )
            return cur.rowcount == 1

    def confirmed(self, secret: str, tokens: dict[str, Any], interval: float) -> None:
        now = time.time()
        self.db.execute(
            "UPDATE staff_session_oidc SET tokens = ?, confirmed_at = ?, next_check_at = ?"
            " WHERE session_id = ?",
            (seal(secret, tokens), now, now + interval, session_id(secret)),
        )

    def remove(self, secret: str) -> None:
        self.db.execute(
            "DELETE FROM staff_session_oidc WHERE session_id = ?", (session_id(secret),)
        )
