"""The access log: every read of patient data, every denied attempt, every operator action.

It is kept in CareLog's views database, apart from the patient streams: recording a read
never takes the event store's table lock, so reads never contend with clinical writes.
It is append-only (triggers refuse UPDATE and DELETE) and numbered by ``position``; the
audit-trail view follows it by position beside the patient log.

On PostgreSQL each insert takes the table's EXCLUSIVE lock (plain SELECTs still run), so
positions commit in order and a follower reading "after position p" can never pass an
entry that commits later with a smaller number; it also NOTIFYs the audit trail's runner.

Every read of patient data appends an entry before it answers, so under load the lock
(and SQLite's write lock) is the queue every read waits in. Within a process, requests
that arrive while an append is in flight are written together by the next one to get
the lock: one lock, one chain read and one commit for all of them, each caller still
answered only once its own entries are committed. A caller inside a transaction of its
own (an operator's skip) appends alone, in that transaction.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.actor import Actor
from projections.sql.database import Cursor, Database
from projections.sql.table_migrations import migrate
from services.access.access_log_table import ACCESS_LOG, append_only
from services.access.request_scope import CLIENT_REQUEST_ID
from services.integrity.access_chain import chain_entries

CHANNEL = "carelog_access"

INSERT_ROWS = 500  # rows per INSERT statement: far inside both stores' parameter limits

KINDS = ("read", "operator")


@dataclass
class _Waiting:
    """A caller's entries, waiting to be appended with whoever else is waiting."""

    rows: list[dict[str, Any]]
    positions: list[int] | None = None
    error: BaseException | None = None


class AccessLog:
    """Append-only record of who read (or tried to read) what, and from where."""

    channel = CHANNEL

    def __init__(self, db: Database) -> None:
        self.db = db
        self._callbacks: list[Callable[[int], None]] = []
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._waiting_lock = threading.Lock()
        self._append_lock = threading.Lock()
        migrate(db, ACCESS_LOG)
        with db.transaction() as cur:  # a trigger dropped by hand is back at the next start
            if db.dialect == "postgres":  # CREATE OR REPLACE FUNCTION races another process's
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('carelog.access_log'))")
            append_only(cur, db.dialect)

    def record(
        self,
        *,
        actor_id: str | None,
        actor_role: str | None,
        patient_id: str | None,
        what: str,
        request_id: str,
        source: str,
        allowed: bool = True,
        flagged: bool = False,
        reason: str | None = None,
        kind: str = "read",
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry; returns its position in the access log."""
        # Its keyword arguments, and nothing else yet: the entry as ``record_many`` takes it.
        entry = {name: value for name, value in locals().items() if name != "self"}
        return self.record_many([entry])[0]

    def record_many(self, entries: Sequence[dict[str, Any]]) -> list[int]:
        """Append several entries in one transaction (e.g. one per patient a list shows);
        each dict has ``record``'s keyword arguments. Returns their positions."""
        rows = [_row(entry) for entry in entries]
        if self.db.in_transaction():  # lands, or rolls back, with the caller's transaction
            with self.db.pipelined() as cur:
                positions = self._insert(cur, rows)
        else:
            positions = self._append_with_others(rows)
        for position in positions:
            for callback in list(self._callbacks):
                callback(position)
        return positions

    def _append_with_others(self, rows: list[dict[str, Any]]) -> list[int]:
        """Append ``rows`` with every other caller's waiting in this process, in one
        transaction, by whichever caller gets the lock first (see the module docstring)."""
        mine = _Waiting(rows)
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._append_lock:
            if mine.positions is None and mine.error is None:  # nobody wrote mine yet
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    with self.db.pipelined() as cur:
                        positions = self._insert(cur, [r for w in batch for r in w.rows])
                except BaseException as exc:  # none of the batch was written: all are told
                    for waiting in batch:
                        waiting.error = exc
                else:
                    start = 0
                    for waiting in batch:
                        waiting.positions = positions[start : start + len(waiting.rows)]
                        start += len(waiting.rows)
        if mine.error is not None:
            raise mine.error
        assert mine.positions is not None
        return mine.positions

    def record_access(
        self,
        actor: Actor | None,
        patient_id: str | None,
        what: str,
        request_id: str,
        source: str,
        allowed: bool = True,
        *,
        flagged: bool = False,
        reason: str | None = None,
    ) -> int:
        """``record`` for an actor object, in the issue's argument order."""
        # The other arguments are ``record``'s keywords, as they are.
        entry = {name: value for name, value in locals().items() if name not in ("self", "actor")}
        return self.record(
            actor_id=actor.id if actor else None,
            actor_role=str(actor.role) if actor else None,
            **entry,
        )

    def _insert(self, cur: Cursor, rows: list[dict[str, Any]]) -> list[int]:
        """The one place rows are written (in the caller's transaction, pipelined on
        PostgreSQL: the lock, the notification and the chain's head travel in one round
        trip, the rows and the commit in another)."""
        if self.db.dialect == "postgres":
            cur.execute("LOCK TABLE access_log IN EXCLUSIVE MODE")
            cur.execute(f"NOTIFY {CHANNEL}")
        # Under the writers' lock: decide positions and chain hashes, insert once, whole.
        chained = chain_entries(cur, self.db.dialect, rows)
        if not chained:
            return []
        columns = ", ".join(chained[0])
        marks = "(" + ", ".join("?" * len(chained[0])) + ")"
        for start in range(0, len(chained), INSERT_ROWS):
            chunk = chained[start : start + INSERT_ROWS]
            cur.execute(
                f"INSERT INTO access_log ({columns}) VALUES " + ", ".join([marks] * len(chunk)),
                [value for row in chunk for value in row.values()],
            )
        return [int(row["position"]) for row in chained]

    # -- reading (never touches the event store) ---------------------------------------------
    def read_after(self, position: int, limit: int) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            return cur.execute(
                "SELECT * FROM access_log WHERE position > ? ORDER BY position LIMIT ?",
                (position, limit),
            ).fetchall()

    def head(self) -> int:
        with self.db.read() as cur:
            found = cur.execute("SELECT MAX(position) AS head FROM access_log").fetchone()
        return int(found["head"] or 0) if found else 0

    def for_patient(
        self, patient_id: str, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            return cur.execute(
                "SELECT * FROM access_log WHERE patient_id = ? AND position > ?"
                " ORDER BY position LIMIT ?",
                (patient_id, after, limit),
            ).fetchall()

    def on_append(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(position)`` after each entry this process appends."""
        with self._lock:
            self._callbacks.append(callback)


_REQUIRED = ("actor_id", "actor_role", "patient_id", "what", "request_id", "source")
_DEFAULTS: dict[str, Any] = {
    "allowed": True,
    "flagged": False,
    "reason": None,
    "kind": "read",
    "details": None,
}


def _row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry (``AccessLog.record``'s keyword arguments) as its row, stamped now."""
    missing = [name for name in _REQUIRED if name not in entry]
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_DEFAULTS))
    if missing or unknown:
        raise TypeError(f"access-log entry: missing {missing}, unknown {unknown}")
    full = {**_DEFAULTS, **entry}
    kind, details = full["kind"], full["details"]
    if kind not in KINDS:
        raise ValueError(f"unknown access-log kind {kind!r}")
    client_request_id = CLIENT_REQUEST_ID.get()
    if client_request_id is not None:  # the client's own id, beside CareLog's
        details = {**(details or {}), "client_request_id": client_request_id}
    return {
        "at": datetime.now(UTC).isoformat(),
        "actor_id": full["actor_id"],
        "actor_role": full["actor_role"],
        "patient_id": full["patient_id"],
        "what": full["what"],
        "request_id": full["request_id"],
        "source": full["source"],
        "allowed": int(bool(full["allowed"])),
        "flagged": int(bool(full["flagged"])),
        "reason": full["reason"],
        "kind": kind,
        "details": json.dumps(details, sort_keys=True) if details else None,
    }
