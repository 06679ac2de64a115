"""Event store recorders that chain every event in the transaction that stores it.

CareLog's application uses these instead of the library's recorders (wired through
``APPLICATION_RECORDER_TOPIC`` in ``Config.eventsourcing_env``). After the library has
inserted a batch of events, and still inside its transaction, the recorder reads the chain
head, computes one link per new event and inserts ``(position, hash)`` rows into
``<events table>_chain``. The events and their links commit together or not at all, so there
is no window in which a committed event is unchained.

The read of the head is race-free: on PostgreSQL it is queued behind the EXCLUSIVE lock
on the events table that every writer takes (they are serialised behind it), and arrives
with the library's own pipeline sync; on SQLite the insert has already taken the
database's write lock, so the transaction sees the latest committed head and no other
writer can commit before it.

Beside the chain, two small tables: ``<events table>_store`` keeps the store's id (made
once, when the tables are created), ``<events table>_checkpoints`` a copy of each signed
checkpoint (services/integrity/checkpoints.py), so the database and the checkpoint folder
must agree.

A store created before chaining existed is sealed once, when the chain table is created:
its events are chained as they stand then (README, "Audit review").
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from services.integrity.chain import GENESIS, canonical_id, event_bytes, extend

SEAL_BATCH = 5000


def new_store_id() -> str:
    """A store's identity, made once when its tables are created and kept in it: each
    checkpoint names it, so one store's checkpoints are never taken for another's."""
    return uuid.uuid4().hex


class ChainBrokenError(RuntimeError):
    """The chain head is ahead of the events being written: the store has been tampered
    with (e.g. its newest events deleted). Writing stops until ``carelog verify`` has been
    run and the damage dealt with."""


def _links_for(
    head: tuple[int, bytes] | None, positions: Sequence[int], stored_events: Sequence[StoredEvent]
) -> list[tuple[int, bytes]]:
    previous = head[1] if head else GENESIS
    if head is not None and positions and head[0] >= positions[0]:
        raise ChainBrokenError(
            f"The event chain's head ({head[0]}) is not before the new event's position "
            f"({positions[0]}): the event log has been altered. Run `carelog verify`."
        )
    return extend(
        previous,
        [
            (
                position,
                event_bytes(canonical_id(s.originator_id), s.originator_version, s.topic, s.state),
            )
            for position, s in zip(positions, stored_events, strict=True)
        ],
    )


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, plus a chain link per event in the same transaction."""

    def __init__(
        self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"
    ) -> None:
        self.chain_table_name = f"{events_table_name}_chain"
        self.store_table_name = f"{events_table_name}_store"
        self.checkpoints_table_name = f"{events_table_name}_checkpoints"
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} "
            "(position INTEGER PRIMARY KEY, hash BLOB NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.store_table_name} "
            "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table_name} "
            "(seq INTEGER PRIMARY KEY, body TEXT NOT NULL)"
        )
        return statements

    def create_table(self) -> None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name=?",
                (self.chain_table_name,),
            )
            existed = c.fetchone() is not None
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {self.store_table_name} (key, value) VALUES (?, ?)",
                ("store_id", new_store_id()),
            )
        if not existed:
            self.seal_unchained()

    # -- the store's identity and its checkpoints' database copies ---------------------------
    def store_id(self) -> str:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT value FROM {self.store_table_name} WHERE key='store_id'")
            return str(c.fetchone()[0])

    def select_checkpoints(self) -> list[tuple[int, str]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT seq, body FROM {self.checkpoints_table_name} ORDER BY seq")
            return [(int(r[0]), str(r[1])) for r in c.fetchall()]

    def latest_checkpoint(self) -> tuple[int, str] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT seq, body FROM {self.checkpoints_table_name} ORDER BY seq DESC LIMIT 1"
            )
            row = c.fetchone()
            return (int(row[0]), str(row[1])) if row else None

    def insert_checkpoint(self, seq: int, body: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR REPLACE INTO {self.checkpoints_table_name} (seq, body) VALUES (?, ?)",
                (seq, body),
            )

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        self._append_links(c, positions, stored_events)
        return positions

    def _append_links(
        self, c: SQLiteCursor, positions: Sequence[int], stored_events: Sequence[StoredEvent]
    ) -> None:
        # The insert before this holds the write lock: this head is the latest committed one.
        c.execute(
            f"SELECT position, hash FROM {self.chain_table_name} ORDER BY position DESC LIMIT 1"
        )
        row = c.fetchone()
        head = (row[0], bytes(row[1])) if row else None
        links = _links_for(head, positions, stored_events)
        insert = f"INSERT INTO {self.chain_table_name} (position, hash) VALUES (?, ?)"
        if len(links) == 1:
            c.execute(insert, links[0])
        else:
            c.executemany(insert, links)

    def seal_unchained(self) -> int:
        """Chain the events after the chain head as they stand (once, on upgrade)."""
        sealed = 0
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT position, hash FROM {self.chain_table_name} ORDER BY position DESC LIMIT 1"
            )
            row = c.fetchone()
            after, previous = (row[0], bytes(row[1])) if row else (0, GENESIS)
            while True:
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid "
                    "LIMIT ?",
                    (after, SEAL_BATCH),
                )
                rows = c.fetchall()
                if not rows:
                    return sealed
                links = extend(
                    previous, [(r[0], event_bytes(r[1], r[2], r[3], bytes(r[4]))) for r in rows]
                )
                c.executemany(
                    f"INSERT INTO {self.chain_table_name} (position, hash) VALUES (?, ?)", links
                )
                after, previous = links[-1]
                sealed += len(links)

    # -- reading, for the verifier and the checkpoints -------------------------------------
    def select_chain_records(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None  # plain tuples: faster than sqlite3.Row
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE rowid > ? AND rowid <= ? "
                "ORDER BY rowid LIMIT ?",
                (after, upto, limit),
            )
            return [(r[0], event_bytes(r[1], r[2], r[3], r[4])) for r in c.fetchall()]

    def select_chain_links(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None
            c.execute(
                f"SELECT position, hash FROM {self.chain_table_name} "
                "WHERE position > ? AND position <= ? ORDER BY position",
                (after, upto),
            )
            return c.fetchall()  # type: ignore[no-any-return]

    def chain_link_before(self, position: int) -> tuple[int, bytes] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, hash FROM {self.chain_table_name} WHERE position < ? "
                "ORDER BY position DESC LIMIT 1",
                (position,),
            )
            row = c.fetchone()
            return (row[0], bytes(row[1])) if row else None

    def chain_max_position(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
            events = c.fetchone()[0] or 0
            c.execute(f"SELECT MAX(position) FROM {self.chain_table_name}")
            links = c.fetchone()[0] or 0
            return max(events, links)


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, plus a chain link per event in the same
    transaction (under the library's EXCLUSIVE lock on the events table)."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        schema, chain = Identifier(self.datastore.schema), Identifier(self.chain_table_name)
        events = Identifier(self.events_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} "
                "(position bigint PRIMARY KEY, hash bytea NOT NULL)"
            ).format(schema, chain)
        )
        store = Identifier(f"{events_table_name}_store")
        checkpoints = Identifier(f"{events_table_name}_checkpoints")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (key text PRIMARY KEY, value text NOT NULL)"
            ).format(schema, store)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (seq bigint PRIMARY KEY, body text NOT NULL)"
            ).format(schema, checkpoints)
        )
        self._sql_store_init = SQL(
            "INSERT INTO {0}.{1} (key, value) VALUES ('store_id', %s) ON CONFLICT DO NOTHING"
        ).format(schema, store)
        self._sql_store_id = SQL("SELECT value FROM {0}.{1} WHERE key='store_id'").format(
            schema, store
        )
        self._sql_checkpoints = SQL("SELECT seq, body FROM {0}.{1} ORDER BY seq").format(
            schema, checkpoints
        )
        self._sql_latest_checkpoint = SQL(
            "SELECT seq, body FROM {0}.{1} ORDER BY seq DESC LIMIT 1"
        ).format(schema, checkpoints)
        self._sql_checkpoint_insert = SQL(
            "INSERT INTO {0}.{1} (seq, body) VALUES (%s, %s) "
            "ON CONFLICT (seq) DO UPDATE SET body = EXCLUDED.body"
        ).format(schema, checkpoints)
        self._sql_head = SQL(
            "SELECT position, hash FROM {0}.{1} ORDER BY position DESC LIMIT 1"
        ).format(schema, chain)
        self._sql_insert_links = SQL("INSERT INTO {0}.{1} (position, hash) VALUES (%s, %s)").format(
            schema, chain
        )
        self._sql_insert_link_arrays = SQL(
            "INSERT INTO {0}.{1} (position, hash) SELECT * FROM unnest(%s::bigint[], %s::bytea[])"
        ).format(schema, chain)
        # No upper bound in SQL: with one, a freshly filled table's stale statistics lead
        # the planner to sort the whole remaining range for every page (measured: 100x).
        self._sql_records = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema, events)
        self._sql_links = SQL(
            "SELECT position, hash FROM {0}.{1} WHERE position > %s AND position <= %s "
            "ORDER BY position"
        ).format(schema, chain)
        self._sql_link_before = SQL(
            "SELECT position, hash FROM {0}.{1} WHERE position < %s ORDER BY position DESC LIMIT 1"
        ).format(schema, chain)
        self._sql_max = SQL(
            "SELECT GREATEST((SELECT MAX(notification_id) FROM {0}.{1}), "
            "(SELECT MAX(position) FROM {0}.{2}))"
        ).format(schema, events, chain)
        self._sql_chain_exists = SQL("SELECT to_regclass(%s) IS NOT NULL AS present")
        self._pending = threading.local()  # the queued head read of this thread's insert

    def create_table(self) -> None:
        qualified = f'"{self.datastore.schema}"."{self.chain_table_name}"'
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._sql_chain_exists, (qualified,))
            row = curs.fetchone()
            existed = bool(row and row["present"])
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql_store_init, (new_store_id(),))
        if not existed:
            self.seal_unchained()

    # -- the store's identity and its checkpoints' database copies ---------------------------
    def store_id(self) -> str:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql_store_id)
            row = curs.fetchone()
            assert row is not None
            return str(row["value"])

    def select_checkpoints(self) -> list[tuple[int, str]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql_checkpoints)
            return [(int(r["seq"]), str(r["body"])) for r in curs.fetchall()]

    def latest_checkpoint(self) -> tuple[int, str] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._sql_latest_checkpoint)
            row = curs.fetchone()
            return (int(row["seq"]), str(row["body"])) if row else None

    def insert_checkpoint(self, seq: int, body: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._sql_checkpoint_insert, (seq, body))

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # The library runs this first in its pipelined insert transaction. Take its table
        # lock here (its own lock call, next, is then skipped) and queue the head read
        # behind it, so the head arrives with the library's own sync: no extra round trip.
        super()._insert_events(curs, stored_events, **kwargs)
        stale = self._pending.__dict__.pop("head", None)
        if stale is not None:  # left by a transaction that failed before its links
            stale.close()
        self._pending.__dict__.pop("locked", None)
        if stored_events:
            super()._lock_table(curs)
            self._pending.locked = True  # the library's own lock call that follows: skipped
            head = curs.connection.cursor()
            head.execute(self._sql_head, prepare=True)
            self._pending.head = head

    def _lock_table(self, curs: Cursor[DictRow]) -> None:
        if not self._pending.__dict__.pop("locked", False):
            super()._lock_table(curs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        head_cursor: Cursor[DictRow] = self._pending.__dict__.pop("head")
        with head_cursor:
            row = head_cursor.fetchone()
        head = (row["position"], bytes(row["hash"])) if row else None
        self._append_links(curs, head, positions, stored_events)
        return positions

    def _append_links(
        self,
        curs: Cursor[DictRow],
        head: tuple[int, bytes] | None,
        positions: Sequence[int],
        stored_events: Sequence[StoredEvent],
    ) -> None:
        # One statement, pipelined: it travels with the commit.
        links = _links_for(head, positions, stored_events)
        if len(links) == 1:
            curs.execute(self._sql_insert_links, links[0], prepare=True)
        else:
            curs.execute(
                self._sql_insert_link_arrays,
                ([p for p, _ in links], [h for _, h in links]),
                prepare=True,
            )

    def seal_unchained(self) -> int:
        """Chain the events after the chain head as they stand (once, on upgrade)."""
        sealed = 0
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.execute(self._sql_head)
            row = curs.fetchone()
            after, previous = (row["position"], bytes(row["hash"])) if row else (0, GENESIS)
            while True:
                curs.execute(self._sql_records, (after, SEAL_BATCH))
                rows = curs.fetchall()
                if not rows:
                    return sealed
                links = extend(
                    previous,
                    [
                        (
                            r["notification_id"],
                            event_bytes(
                                canonical_id(r["originator_id"]),
                                r["originator_version"],
                                r["topic"],
                                bytes(r["state"]),
                            ),
                        )
                        for r in rows
                    ],
                )
                curs.executemany(self._sql_insert_links, links)
                after, previous = links[-1]
                sealed += len(links)

    # -- reading, for the verifier and the checkpoints -------------------------------------
    def select_chain_records(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(self._sql_records, (after, limit), prepare=False)
            return [
                (r[0], event_bytes(canonical_id(r[1]), r[2], r[3], r[4]))
                for r in curs.fetchall()
                if r[0] <= upto
            ]

    def select_chain_links(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(self._sql_links, (after, upto), prepare=False)
            return [(r[0], r[1]) for r in curs.fetchall()]

    def chain_link_before(self, position: int) -> tuple[int, bytes] | None:
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(self._sql_link_before, (position,))
            row = curs.fetchone()
            return (row[0], bytes(row[1])) if row else None

    def chain_max_position(self) -> int:
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(self._sql_max)
            row = curs.fetchone()
            return int(row[0] or 0) if row else 0
