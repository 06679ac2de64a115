"""Loading stored events into an empty store at their original positions, with their chain
links, in one transaction (``carelog import log``).

The library's recorders number events themselves (SQLite's rowid, PostgreSQL's sequence),
so a store copied through them would renumber any gap a PostgreSQL sequence left, and every
chain link covers its position. This writes into the recorder's own tables, through its
datastore, with the positions given: topics and stored bytes go in untouched, and each event's
chain link beside it. On PostgreSQL the sequence is then moved past the last position, so
new writes follow the imported ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

Row = tuple[int, tuple[Any, int, str, bytes], bytes]
"""(position, (originator id, version, topic, stored state), chain link)."""


@contextmanager
def loading_at_positions(recorder: Any) -> Iterator[Callable[[list[Row]], None]]:
    """One transaction that inserts events at their positions with their chain links; the
    store is left empty if anything inside it fails."""
    postgres = isinstance(recorder, PostgresApplicationRecorder)
    events_sql: Any
    chain_sql: Any
    if postgres:
        schema = Identifier(recorder.datastore.schema)
        events_sql = SQL(
            "INSERT INTO {}.{} (originator_id, originator_version, topic, state, "
            "notification_id) VALUES (%s, %s, %s, %s, %s)"
        ).format(schema, Identifier(recorder.events_table_name))
        chain_sql = SQL("INSERT INTO {}.{} (position, hash) VALUES (%s, %s)").format(
            schema, Identifier(recorder.chain_table_name)
        )
    else:
        events_sql = (
            f"INSERT INTO {recorder.events_table_name} (originator_id, "
            "originator_version, topic, state, rowid) VALUES (?, ?, ?, ?, ?)"
        )
        chain_sql = f"INSERT INTO {recorder.chain_table_name} (position, hash) VALUES (?, ?)"
    with recorder.datastore.transaction(commit=True) as cur:
        if postgres:
            cur.execute(
                SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                    schema, Identifier(recorder.events_table_name)
                )
            )
        last = 0

        def load(batch: list[Row]) -> None:
            nonlocal last
            if not batch:
                return
            cur.executemany(
                events_sql,
                [
                    (
                        oid if postgres or not isinstance(oid, UUID) else oid.hex,
                        version,
                        topic,
                        state,
                        position,
                    )
                    for position, (oid, version, topic, state), _ in batch
                ],
            )
            cur.executemany(chain_sql, [(position, digest) for position, _, digest in batch])
            last = batch[-1][0]

        yield load
        if postgres and last:  # new writes continue after the imported positions
            table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)", (table, last)
            )
