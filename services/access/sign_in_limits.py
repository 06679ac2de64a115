"""Failed sign-ins, counted per (staff id, source address) pair, per source and per id, to
stop guessing tokens without letting anyone lock another person out.

A token's secret is 256 random bits, so guessing one is hopeless; the limit is there so a
stolen prefix, a leaked old token or a typo-ridden script cannot hammer an account, and so
an attacker cannot use CareLog's scrypt as a free CPU to burn. Failures are kept in
CareLog's SQL database, not in memory, so the limit holds across every server process and
worker; only a failed verification (never a request whose token is already verified)
reads or writes the table, so normal traffic never touches it.

Staff ids are not secret (team members and auditors see them), so a limit per id alone
would let anyone who knows one lock its owner out (red-team F5). Hence three counts:

- per (id, source): ``per_id`` failures for one id from one address;
- per source: ``per_source`` failures from one address, whatever the ids;
- per id, from every address: ``per_id_total`` (5 x ``per_id``), which only applies to a
  source that has itself failed for that id. It slows a guesser spread over many
  addresses, and never refuses the right token from an address that has not failed.

While a count is over its limit every new verification it applies to is refused (429 with
``Retry-After``), the right token included: otherwise the answer would tell a guesser
when they had hit it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from projections.sql.database import Database
from projections.sql.table_migrations import Component, Migration, migrate

FAILURE_TABLE = Component(
    "sign_in_failure",
    (
        Migration(
            1,
            "failed sign-ins, counted per id and source across every process",
            (
                """CREATE TABLE IF NOT EXISTS sign_in_failure (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL)""",
                "CREATE INDEX IF NOT EXISTS ix_sign_in_failure_key"
                " ON sign_in_failure (scope, key, at)",
                "CREATE INDEX IF NOT EXISTS ix_sign_in_failure_at ON sign_in_failure (at)",
            ),
        ),
    ),
)
KEY_LENGTH = 128
"""A claimed id is stored at most this long (a token's id part is attacker-chosen)."""


@dataclass(frozen=True)
class SignInLimits:
    """How many failed sign-ins an id or a source may have within ``window`` seconds."""

    per_id: int = 10
    per_source: int = 100
    window: float = 300.0

    @property
    def per_id_total(self) -> int:
        """Failures for one id from every address, counted against addresses that failed."""
        return 5 * self.per_id


class SignInThrottledError(Exception):
    """Too many failed sign-ins for this id or from this address: wait ``retry_after`` s."""

    def __init__(self, retry_after: int, what: str) -> None:
        self.retry_after = max(1, int(retry_after))
        self.message = f"Too many failed sign-ins {what}; try again in {self.retry_after} seconds."
        super().__init__(self.message)


_WHAT = {
    "pair": "for this staff id from this address",
    "id": "for this staff id",
    "source": "from this address",
}


class FailedSignIns:
    """The failures of the last window, shared by every process on the database."""

    def __init__(
        self,
        db: Database,
        limits: SignInLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.limits = limits or SignInLimits()
        self.clock = clock  # wall-clock seconds: every process must agree on it
        migrate(db, FAILURE_TABLE)

    def _keys(self, staff_id: str, source: str | None) -> list[tuple[str, str, int]]:
        """(scope, key, limit) of each count a failure adds to."""
        claimed = staff_id[:KEY_LENGTH]
        pair = f"{claimed}|{(source or '')[:KEY_LENGTH]}"
        keys = [("pair", pair, self.limits.per_id), ("id", claimed, self.limits.per_id_total)]
        if source:
            keys.append(("source", source[:KEY_LENGTH], self.limits.per_source))
        return keys

    def check(self, staff_id: str, source: str | None) -> None:
        """Raise ``SignInThrottledError`` when the (id, source) pair or the source is over
        its limit, or the id is over its total and this source has failed for it too."""
        now = self.clock()
        since = now - self.limits.window
        pair_failed = False
        for scope, key, limit in self._keys(staff_id, source):
            if scope == "id" and not pair_failed:
                continue  # a clean source is never held back by others' failures
            rows = self.db.query(
                "SELECT at FROM sign_in_failure WHERE scope = ? AND key = ? AND at > ?"
                " ORDER BY at DESC LIMIT ?",
                (scope, key, since, max(1, limit)),
            )
            if scope == "pair":
                pair_failed = bool(rows)
            if len(rows) >= limit:
                # Allowed again once the oldest of the last ``limit`` failures ages out.
                oldest = float(rows[-1]["at"])
                wait = math.ceil(oldest + self.limits.window - now)
                raise SignInThrottledError(wait, _WHAT[scope])

    def record(self, staff_id: str, source: str | None) -> None:
        now = self.clock()
        with self.db.transaction() as cur:
            # Old failures go as new ones come: the table holds one window at most.
            cur.execute("DELETE FROM sign_in_failure WHERE at < ?", (now - 2 * self.limits.window,))
            for scope, key, _ in self._keys(staff_id, source):
                cur.execute(
                    "INSERT INTO sign_in_failure (scope, key, at) VALUES (?, ?, ?)",
                    (scope, key, now),
                )
