"""Rebuilding a view from zero beside the live one, then swapping it in atomically.

The new generation's tables (``<table>__g<N>``) fill from position 0 in batches while the
live view keeps following the log. The swap is one transaction that first locks the live
view's tracking rows (so no live batch can commit meanwhile), projects whatever arrived
since the bulk phase, drops the live tables, renames the new ones into place and moves the
tracking rows to the new position. Readers see the old view or the new one, never half a
view, and writes made during the rebuild are in it. A live runner whose batch waited on
the lock finds the position moved and discards its batch.

The new tables are loaded bare (keys only); the indexes only readers use are created
after the bulk load, just before the swap, which is cheaper than keeping them up to date
row by row.

Items an operator skipped for this view are skipped again; a new poison item aborts the
rebuild (the live view is left as it was) with the error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from projections import batch, tracking
from projections.feed import Feed, Item
from projections.sql.database import Database
from projections.view import Tables, View


class Progress(Protocol):
    def advance(self, count: int = 1) -> None: ...
    def close(self) -> None: ...


class RebuildError(RuntimeError):
    """The rebuild met an item it cannot project; the live view is unchanged."""


@dataclass(frozen=True)
class RebuildResult:
    view: str
    events: int
    seconds: float
    positions: dict[str, int]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.rate),
            "positions": self.positions,
        }


def _begin(db: Database, view: View) -> tuple[Tables, str]:
    """Start a new generation: drop a crashed rebuild's leftovers, create fresh tables."""
    key = f"{view.name}#next"
    with db.transaction() as cur:
        meta = cur.execute(
            "SELECT generation, building FROM view_meta WHERE name = ?", (view.name,)
        ).fetchone()
        if meta is None:
            raise RebuildError(f"view {view.name} has no tables yet")
        if meta["building"] is not None:
            view.drop(cur, Tables(view.tables, f"__g{meta['building']}", meta["building"]))
        generation = int(meta["generation"]) + 1
        tables = Tables(view.tables, f"__g{generation}", generation)
        view.create_tables(cur, tables)  # indexes after the bulk load (see _swap)
        for stream in view.streams:
            tracking.reset_position(cur, key, stream)
        cur.execute(
            "UPDATE view_meta SET generation = ?, building = ? WHERE name = ?",
            (generation, generation, view.name),
        )
    return tables, key


def _abandon(db: Database, view: View, tables: Tables, key: str) -> None:
    with db.transaction() as cur:
        view.drop(cur, tables)
        cur.execute("DELETE FROM view_tracking WHERE name = ?", (key,))
        cur.execute("UPDATE view_meta SET building = NULL WHERE name = ?", (view.name,))


def rebuild(
    db: Database,
    view: View,
    feeds: Mapping[str, Feed],
    batch_size: int = 500,
    progress: Progress | None = None,
) -> RebuildResult:
    started = time.monotonic()
    tables, key = _begin(db, view)
    skipped = tracking.skipped_positions(db, view.name)
    positions = {stream: 0 for stream in view.streams}
    done = 0
    try:
        for stream in view.streams:  # bulk phase: batches of their own, beside the live view
            feed = feeds[stream]
            while True:
                items = feed.read(positions[stream], batch_size)
                if not items:
                    break
                with _aborts_on_poison(view, items):
                    batch.apply(
                        db,
                        view,
                        tables,
                        key,
                        stream,
                        items,
                        positions[stream],
                        skipped.get(stream, set()),
                    )
                positions[stream] = items[-1].position
                done += len(items)
                if progress is not None:
                    progress.advance(len(items))
        with db.transaction() as cur:  # outside the swap's lock: the live view goes on
            view.create_indexes(cur, tables)
        done += _swap(db, view, feeds, tables, key, positions, skipped, batch_size)
    except BaseException:
        _abandon(db, view, tables, key)
        raise
    finally:
        view.forget(tables)
        if progress is not None:
            progress.close()
    return RebuildResult(view.name, done, time.monotonic() - started, positions)


@contextmanager
def _aborts_on_poison(view: View, items: Sequence[Item]) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if batch.is_transient(exc):
            raise
        raise RebuildError(
            f"rebuilding {view.name} failed between positions "
            f"{items[0].position} and {items[-1].position}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _swap(
    db: Database,
    view: View,
    feeds: Mapping[str, Feed],
    tables: Tables,
    key: str,
    positions: dict[str, int],
    skipped: dict[str, set[int]],
    batch_size: int,
) -> int:
    """Catch the new tables up under the live view's lock and put them in its place."""
    done = 0
    with db.transaction() as cur:
        live = {s: tracking.lock_position(cur, db.dialect, view.name, s) for s in view.streams}
        for stream in view.streams:
            while True:
                items = feeds[stream].read(positions[stream], batch_size)
                if not items:
                    break
                with _aborts_on_poison(view, items):
                    batch.project_into(cur, view, tables, stream, items, skipped.get(stream, set()))
                positions[stream] = items[-1].position
                done += len(items)
            if positions[stream] < live[stream]:  # the live view cannot be ahead of the log
                raise RebuildError(
                    f"{view.name}: live position {live[stream]} is beyond the "
                    f"log's head {positions[stream]}"
                )
        for base in view.tables:
            cur.execute(f"DROP TABLE IF EXISTS {base}")
            cur.execute(f"ALTER TABLE {tables[base]} RENAME TO {base}")
        now = tracking.now_text()
        for stream in view.streams:
            tracking.set_position(cur, view.name, stream, positions[stream], now)
            tracking.resolve_fixed(cur, view.name, stream, positions[stream])
        cur.execute("DELETE FROM view_tracking WHERE name = ?", (key,))
        cur.execute(
            "UPDATE view_meta SET building = NULL, rebuilt_at = ? WHERE name = ?", (now, view.name)
        )
    return done
