"""One relay per store: the lock a relay holds for its lifetime.

Two relays on one log would each publish everything (twice the duplicates) and race on
the tracking row. On PostgreSQL the lock is a session advisory lock on a connection of its
own; on SQLite, an exclusive ``flock`` on a file beside the database. The operating system
or the server releases either when the process dies, so a killed relay never blocks its
successor.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from types import TracebackType
from typing import Any

from projections.sql.database import Database
from projections.sql.postgres import split_schema


class RelayLockedError(RuntimeError):
    """Another relay is running on this store (or this relay lost its lock)."""


class RelayLock:
    """Held while the relay runs; ``check()`` raises if it was lost."""

    _held: Any = None
    """What holds the lock while it is held (a file descriptor, a connection)."""

    def __enter__(self) -> RelayLock:  # pragma: no cover - interface
        raise NotImplementedError

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._release(held)

    def _release(self, held: Any) -> None:  # pragma: no cover - interface
        """Let the lock go and close what held it."""
        raise NotImplementedError

    def check(self) -> None:
        """Raise ``RelayLockedError`` if the lock is no longer held."""


class FileLock(RelayLock):
    """An exclusive ``flock`` on ``PATH.relay.lock``."""

    def __init__(self, path: str) -> None:
        self.path = f"{path}.relay.lock"

    def __enter__(self) -> FileLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RelayLockedError(
                f"Another relay holds {self.path}: one relay per store."
            ) from None
        self._held = fd
        return self

    def _release(self, held: Any) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(held, fcntl.LOCK_UN)
        os.close(held)


TAKEOVER_SECONDS = 5.0  # how long a starting relay waits for a just-killed one's lock


class AdvisoryLock(RelayLock):
    """``pg_try_advisory_lock`` on a dedicated connection, keyed by the store's schema."""

    def __init__(self, url: str) -> None:
        self.conninfo, schema = split_schema(url)
        digest = hashlib.sha256(f"carelog-relay:{schema or 'public'}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def __enter__(self) -> AdvisoryLock:
        import psycopg

        conn = psycopg.connect(self.conninfo, autocommit=True)
        # A relay killed a moment ago holds its lock until PostgreSQL notices the closed
        # connection and ends its session, which takes a little while: a restart (by a
        # supervisor, at once) waits that long before saying another relay holds it.
        deadline = time.monotonic() + TAKEOVER_SECONDS
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
            if (row and row[0]) or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if not (row and row[0]):
            conn.close()
            raise RelayLockedError(
                "Another relay holds this store's advisory lock: one relay per store."
            )
        self._held = conn
        return self

    def check(self) -> None:
        try:
            self._held.execute("SELECT 1")
        except Exception as exc:  # any failure means the session is gone
            raise RelayLockedError(
                "The relay lost its lock connection; stopping so another can take over."
            ) from exc

    def _release(self, held: Any) -> None:
        with contextlib.suppress(Exception):
            held.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        held.close()


def relay_lock(db: Database) -> RelayLock:
    """The lock for the database that holds the relay's tracking row."""
    if db.dialect == "postgres":
        return AdvisoryLock(db.url)
    return FileLock(str(getattr(db, "path", "carelog")))
