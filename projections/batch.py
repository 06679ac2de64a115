"""One batch, exactly once: a view's rows and its tracking position in one transaction.

The batch is discarded (``Moved``) when the tracking row no longer holds the position it
was read from: another runner of the same view, or a rebuild's swap, got there first.
Failures are sorted into transient ones (a lost connection, a locked database: retried
with backoff by the runner) and poison (anything the projection itself raises: isolated
to one item and quarantined).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import NamedTuple

from projections.feed import Item
from projections.sql.database import Cursor, Database
from projections.sql.postgres import SMALL
from projections.sql.transient import is_transient_store_error
from projections.tracking import (
    MissingTrackingError,
    lock_position,
    lock_positions,
    set_position,
)
from projections.view import Tables, View


class Moved(Exception):  # a signal to discard the batch, not a failure
    """The view's position moved under this batch; it was rolled back."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class Target(NamedTuple):
    """A view as one batch writes it: its tracking key, tables and skipped positions."""

    key: str
    view: View
    tables: Tables
    skipped: Collection[int] = ()


def is_transient(exc: BaseException) -> bool:
    """Worth retrying as it is (the store was unreachable or busy, or the tracking row not
    yet there), rather than poison."""
    return isinstance(exc, MissingTrackingError) or is_transient_store_error(exc)


def project_into(
    cur: Cursor,
    view: View,
    tables: Tables,
    stream: str,
    items: Sequence[Item],
    skipped: Collection[int] = (),
) -> None:
    """Project items inside an open transaction (skipped positions are tracked, not applied)."""
    chosen = [i for i in items if i.position not in skipped] if skipped else list(items)
    if chosen:
        view.project(cur, tables, stream, chosen)


def apply(
    db: Database,
    view: View,
    tables: Tables,
    key: str,
    stream: str,
    items: Sequence[Item],
    expected: int,
    skipped: Collection[int] = (),
    synced_at: str | None = None,
) -> None:
    """Project ``items`` (all after ``expected``) and advance tracking, or raise."""
    small = len(items) <= SMALL  # the live case: no COPY, so the statements can be pipelined
    with db.pipelined() if small else db.transaction() as cur:
        # A view can always be recomputed from the log, and its rows and position commit
        # together: losing the last commits in a server crash only means replaying them,
        # so a batch need not wait for PostgreSQL's WAL flush.
        found = lock_position(cur, db.dialect, key, stream, relaxed_commit=True)
        if found != expected:
            raise Moved(found)
        project_into(cur, view, tables, stream, items, skipped)
        set_position(cur, key, stream, items[-1].position, synced_at)


def apply_together(
    db: Database,
    targets: Sequence[Target],
    stream: str,
    items: Sequence[Item],
    expected: int,
    synced_at: str | None = None,
) -> dict[str, int]:
    """A few live items into several views in one transaction (one connection and a few
    round trips, rather than a transaction per view): each view whose position is still
    ``expected`` gets its rows and its new position; the others are left alone. Returns
    each view's position as found. Any exception rolls back every view's rows: the
    caller then applies the views one by one, to find and quarantine the item at fault."""
    small = len(items) <= SMALL
    with db.pipelined() if small else db.transaction() as cur:
        found = lock_positions(cur, db.dialect, sorted(t.key for t in targets), stream)
        for target in targets:
            if found[target.key] == expected:
                project_into(cur, target.view, target.tables, stream, items, target.skipped)
                set_position(cur, target.key, stream, items[-1].position, synced_at)
    return found
