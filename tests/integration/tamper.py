"""Raw access to a stored event log, as someone with database access would tamper with it.

Used by the integrity tests only: it bypasses CareLog and edits the events table and its
chain table directly, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Self
from uuid import UUID

from domain import commands as c
from domain.command_context import CommandContext
from projections.sql.postgres import split_schema
from services.bootstrap import CareLog
from services.config import Config
from services.integrity.chain import GENESIS, canonical_id, event_bytes, extend
from tests.patient_writes import registration

Row = tuple[int, Any, int, str, bytes]  # position, originator id, version, topic, state


def seed(carelog: CareLog, team: Any, patients: int = 6, notes: int = 3, prefix: str = "T") -> None:
    """Write some patients with progress notes through the application."""
    ctx = CommandContext(team.psychiatrist)
    for n in range(patients):
        result = carelog.app.register_patient(ctx, registration(f"MRN-{prefix}{n}", f"Patient {n}"))
        for i in range(notes):
            carelog.app.write(
                result.patient_id,
                ctx,
                lambda record, i=i: record.add_note(
                    ctx,
                    c.AddNote(
                        kind="progress", modality="supportive", text=f"Seen today, visit {i}."
                    ),
                ),
            )


def first_problem(carelog: CareLog) -> Any:
    """The first problem ``verify`` finds in a store that was tampered with (it must find
    one)."""
    result = carelog.integrity.verify()
    assert not result.ok, "tampering went undetected"
    problem = result.first_problem
    assert problem is not None
    return problem


class _RawTables:
    """A direct connection to a store's tables (``conn``, with its parameter ``mark``),
    closed when a ``with`` block ends."""

    conn: Any
    mark: str

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        cur = self.conn.execute(sql.replace("?", self.mark), tuple(params))
        return list(cur.fetchall()) if cur.description else []


class RawLog(_RawTables):
    """The events and chain tables of one store, for direct edits."""

    def __init__(self, config: Config) -> None:
        self.config = config
        if config.is_postgres:
            conninfo, schema = split_schema(config.database_url)
            import psycopg

            self.conn: Any = psycopg.connect(conninfo, autocommit=True)
            self.schema = schema or "public"
            self.events = f"{self.schema}.carelog_events"
            self.chain = f"{self.schema}.carelog_events_chain"
            self.pos = "notification_id"
            self.mark = "%s"
        else:
            self.conn = sqlite3.connect(config.sqlite_path, isolation_level=None)
            self.events, self.chain, self.pos, self.mark = (
                "stored_events",
                "stored_events_chain",
                "rowid",
                "?",
            )

    # -- reading ---------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        return [
            (r[0], r[1], r[2], r[3], bytes(r[4]))
            for r in self.run(
                f"SELECT {self.pos}, originator_id, originator_version, topic, state "
                f"FROM {self.events} ORDER BY {self.pos}"
            )
        ]

    def links(self) -> list[tuple[int, bytes]]:
        return [
            (r[0], bytes(r[1]))
            for r in self.run(f"SELECT position, hash FROM {self.chain} ORDER BY position")
        ]

    def positions(self) -> list[int]:
        return [r[0] for r in self.rows()]

    # -- tampering -------------------------------------------------------------------------
    def set_state(self, position: int, state: bytes) -> None:
        self.run(f"UPDATE {self.events} SET state=? WHERE {self.pos}=?", (state, position))

    def flip_state_byte(self, position: int, index: int = 0) -> None:
        state = bytearray(self.row(position)[4])
        state[index % len(state)] ^= 0x01
        self.set_state(position, bytes(state))

    def set_field(self, position: int, column: str, value: Any) -> None:
        self.run(f"UPDATE {self.events} SET {column}=? WHERE {self.pos}=?", (value, position))

    def delete(self, position: int) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.pos}=?", (position,))

    def move(self, position: int, to: int) -> None:
        self.run(f"UPDATE {self.events} SET {self.pos}=? WHERE {self.pos}=?", (to, position))

    def swap(self, a: int, b: int) -> None:
        spare = max(self.positions()) + 1000
        self.move(a, spare)
        self.move(b, a)
        self.move(spare, b)

    def truncate_from(self, position: int, *, links_too: bool) -> None:
        self.run(f"DELETE FROM {self.events} WHERE {self.pos}>=?", (position,))
        if links_too:
            self.run(f"DELETE FROM {self.chain} WHERE position>=?", (position,))

    def insert(
        self, position: int, originator_id: Any, version: int, topic: str, state: bytes
    ) -> None:
        self.run(
            f"INSERT INTO {self.events} ({self.pos}, originator_id, originator_version, "
            "topic, state) VALUES (?, ?, ?, ?, ?)",
            (position, self.stored_id(originator_id), version, topic, state),
        )

    def set_link(self, position: int, digest: bytes) -> None:
        self.run(f"UPDATE {self.chain} SET hash=? WHERE position=?", (digest, position))

    def delete_link(self, position: int) -> None:
        self.run(f"DELETE FROM {self.chain} WHERE position=?", (position,))

    def rewrite_links(self) -> None:
        """Recompute every link over the events as they now stand (what an attacker who
        controls the database would do to hide an edit)."""
        links = extend(
            GENESIS,
            [
                (r[0], event_bytes(canonical_id(_as_uuid(r[1])), r[2], r[3], r[4]))
                for r in self.rows()
            ],
        )
        self.run(f"DELETE FROM {self.chain}")
        for position, digest in links:
            self.run(f"INSERT INTO {self.chain} (position, hash) VALUES (?, ?)", (position, digest))

    # -- the checkpoints' database copies (format 2) ------------------------------------------
    @property
    def checkpoints(self) -> str:
        return f"{self.events}_checkpoints"

    def checkpoint_seqs(self) -> list[int]:
        return [int(r[0]) for r in self.run(f"SELECT seq FROM {self.checkpoints} ORDER BY seq")]

    def delete_checkpoint_rows(self, from_seq: int = 1) -> None:
        """Remove the database copies of checkpoints ``from_seq`` on (as the files' owner
        would, to make them vanish from the database too)."""
        self.run(f"DELETE FROM {self.checkpoints} WHERE seq>=?", (from_seq,))

    # -- restoring (property tests reuse one store) ----------------------------------------
    def restore(self, rows: list[Row], links: list[tuple[int, bytes]]) -> None:
        self.run(f"DELETE FROM {self.events}")
        self.run(f"DELETE FROM {self.chain}")
        for row in rows:
            self.insert(*row)
        for position, digest in links:
            self.run(f"INSERT INTO {self.chain} (position, hash) VALUES (?, ?)", (position, digest))

    def row(self, position: int) -> Row:
        return next(r for r in self.rows() if r[0] == position)

    def stored_id(self, originator_id: Any) -> Any:
        uid = _as_uuid(originator_id)
        return uid if self.config.is_postgres else uid.hex


def _as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class RawAccessLog(_RawTables):
    """The access log table in the views database, with its append-only triggers dropped
    (as someone who controls the database would)."""

    def __init__(self, config: Config) -> None:
        url = config.effective_views_url
        if url.startswith("postgresql"):
            conninfo, schema = split_schema(url)
            import psycopg

            self.conn: Any = psycopg.connect(conninfo, autocommit=True)
            self.table, self.mark = f"{schema or 'public'}.access_log", "%s"
            self.run(f"ALTER TABLE {self.table} DISABLE TRIGGER access_log_append_only")
        else:
            self.conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
            self.table, self.mark = "access_log", "?"
            self.run("DROP TRIGGER IF EXISTS access_log_no_update")
            self.run("DROP TRIGGER IF EXISTS access_log_no_delete")

    def positions(self) -> list[int]:
        return [r[0] for r in self.run(f"SELECT position FROM {self.table} ORDER BY position")]

    def set_field(self, position: int, column: str, value: Any) -> None:
        self.run(f"UPDATE {self.table} SET {column}=? WHERE position=?", (value, position))

    def delete(self, position: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE position=?", (position,))

    def truncate_from(self, position: int) -> None:
        self.run(f"DELETE FROM {self.table} WHERE position>=?", (position,))

    def insert_forged(self, position: int) -> None:
        self.run(
            f"INSERT INTO {self.table} (position, at, actor_id, actor_role, patient_id, "
            "what, request_id, source, allowed, flagged, kind) VALUES "
            "(?, '2026-01-01T00:00:00+00:00', 'someone', 'psychiatrist', NULL, "
            "'plan', 'req-forged', '127.0.0.1', 1, 0, 'read')",
            (position,),
        )

    def rewrite_hashes(self) -> None:
        """Recompute every entry's hash as the rows now stand."""
        from services.integrity.access_chain import ACCESS_FIELDS, access_bytes
        from services.integrity.chain import link

        columns = ", ".join(("position", *ACCESS_FIELDS))
        previous = GENESIS
        for values in self.run(f"SELECT {columns} FROM {self.table} ORDER BY position"):
            row = dict(zip(("position", *ACCESS_FIELDS), values, strict=True))
            previous = link(previous, row["position"], access_bytes(row))
            self.run(
                f"UPDATE {self.table} SET hash=? WHERE position=?", (previous, row["position"])
            )
