"""Idempotency keys: a retried write returns the first response and writes nothing.

The key is claimed (a pending row) before the write runs, so two concurrent requests with
one key cannot both write; the second waits briefly for the first's response. The same key
with a different body is refused, since the client is confused about what it sent.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidInputError
from projections.sql.database import Database
from projections.sql.table_migrations import Component, Migration, migrate

IDEMPOTENCY_TABLE = Component(
    "idempotency_keys",
    (
        Migration(
            1,
            "the first response to each write sent with an Idempotency-Key",
            (
                """CREATE TABLE IF NOT EXISTS idempotency_keys (
                    actor_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    status INTEGER,
                    body TEXT,
                    headers TEXT,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (actor_id, key))""",
            ),
        ),
    ),
)
WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]


class IdempotencyStore:
    """Responses of writes sent with an ``Idempotency-Key``, per caller."""

    def __init__(self, db: Database) -> None:
        self.db = db
        migrate(db, IDEMPOTENCY_TABLE)

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> str:
        return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()

    def claim(self, actor_id: str, key: str, fingerprint: str) -> StoredResponse | None:
        """Claim the key for this request, or return the response already stored for it."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            row = self.db.query_one(
                "SELECT request_hash, status, body, headers FROM idempotency_keys "
                "WHERE actor_id = ? AND key = ?",
                (actor_id, key),
            )
            if row is None:
                try:
                    self.db.execute(
                        "INSERT INTO idempotency_keys (actor_id, key, request_hash, created_at)"
                        " VALUES (?, ?, ?, ?)",
                        (actor_id, key, fingerprint, datetime.now(UTC).isoformat()),
                    )
                    return None
                except Exception:
                    continue
            if row["request_hash"] != fingerprint:
                raise InvalidInputError(
                    "This Idempotency-Key was used for a different request.", "Idempotency-Key"
                )
            if row["status"] is not None:
                return StoredResponse(
                    int(row["status"]), json.loads(row["body"]), json.loads(row["headers"])
                )
            if time.monotonic() > deadline:
                raise InvalidInputError(
                    "A request with this Idempotency-Key is still running.", "Idempotency-Key"
                )
            time.sleep(0.01)

    def store(self, actor_id: str, key: str, response: StoredResponse) -> None:
        self.db.execute(
            "UPDATE idempotency_keys SET status = ?, body = ?, headers = ? "
            "WHERE actor_id = ? AND key = ?",
            (
                response.status,
                json.dumps(response.body, default=str),
                json.dumps(response.headers),
                actor_id,
                key,
            ),
        )

    def release(self, actor_id: str, key: str) -> None:
        """Forget a claim whose request failed unexpectedly, so a retry can run."""
        self.db.execute(
            "DELETE FROM idempotency_keys WHERE actor_id = ? AND key = ? AND status IS NULL",
            (actor_id, key),
        )
