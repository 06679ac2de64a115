"""The library's SQLite recorder with a chain link per event, written in the transaction that
stores it (what is chained and why: ``recorder``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from services.integrity.chain import GENESIS, event_bytes, extend
from services.integrity.recorder import SEAL_BATCH, links_for, new_store_id


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
        links = links_for(head, positions, stored_events)
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
