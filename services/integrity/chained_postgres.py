"""The library's PostgreSQL recorder with a chain link per event, written in the transaction that
stores it, under the library's EXCLUSIVE lock on the events table (what is chained and why:
``recorder``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from services.integrity.chain import GENESIS, canonical_id, event_bytes, extend
from services.integrity.recorder import SEAL_BATCH, links_for, new_store_id


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

        def in_schema(statement: str, *tables: Identifier) -> Composed:
            """A statement on tables of this store's schema: {0} is the schema, {1}... the
            tables, quoted as identifiers."""
            return SQL(statement).format(schema, *tables)

        events = Identifier(self.events_table_name)
        self.sql_create_statements.append(
            in_schema(
                "CREATE TABLE IF NOT EXISTS {0}.{1} "
                "(position bigint PRIMARY KEY, hash bytea NOT NULL)",
                chain,
            )
        )
        store = Identifier(f"{events_table_name}_store")
        checkpoints = Identifier(f"{events_table_name}_checkpoints")
        self.sql_create_statements.append(
            in_schema(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (key text PRIMARY KEY, value text NOT NULL)",
                store,
            )
        )
        self.sql_create_statements.append(
            in_schema(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (seq bigint PRIMARY KEY, body text NOT NULL)",
                checkpoints,
            )
        )
        self._sql_store_init = in_schema(
            "INSERT INTO {0}.{1} (key, value) VALUES ('store_id', %s) ON CONFLICT DO NOTHING", store
        )
        self._sql_store_id = in_schema("SELECT value FROM {0}.{1} WHERE key='store_id'", store)
        self._sql_checkpoints = in_schema("SELECT seq, body FROM {0}.{1} ORDER BY seq", checkpoints)
        self._sql_latest_checkpoint = in_schema(
            "SELECT seq, body FROM {0}.{1} ORDER BY seq DESC LIMIT 1", checkpoints
        )
        self._sql_checkpoint_insert = in_schema(
            "INSERT INTO {0}.{1} (seq, body) VALUES (%s, %s) "
            "ON CONFLICT (seq) DO UPDATE SET body = EXCLUDED.body",
            checkpoints,
        )
        self._sql_head = in_schema(
            "SELECT position, hash FROM {0}.{1} ORDER BY position DESC LIMIT 1", chain
        )
        self._sql_insert_links = in_schema(
            "INSERT INTO {0}.{1} (position, hash) VALUES (%s, %s)", chain
        )
        self._sql_insert_link_arrays = in_schema(
            "INSERT INTO {0}.{1} (position, hash) SELECT * FROM unnest(%s::bigint[], %s::bytea[])",
            chain,
        )
        # No upper bound in SQL: with one, a freshly filled table's stale statistics lead
        # the planner to sort the whole remaining range for every page (measured: 100x).
        self._sql_records = in_schema(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {0}.{1} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s",
            events,
        )
        self._sql_links = in_schema(
            "SELECT position, hash FROM {0}.{1} WHERE position > %s AND position <= %s "
            "ORDER BY position",
            chain,
        )
        self._sql_link_before = in_schema(
            "SELECT position, hash FROM {0}.{1} WHERE position < %s ORDER BY position DESC LIMIT 1",
            chain,
        )
        self._sql_max = in_schema(
            "SELECT GREATEST((SELECT MAX(notification_id) FROM {0}.{1}), "
            "(SELECT MAX(position) FROM {0}.{2}))",
            events,
            chain,
        )
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
        links = links_for(head, positions, stored_events)
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
