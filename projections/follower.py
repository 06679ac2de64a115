"""One round of catching up: read each log once per position, project it into every view
that stands there, commit each view's batch with its position.

Views at the same position share one read and one decode of the batch (the common case:
all three views follow the head together); a few items (following the head live) go into
all of them in one transaction, each view's rows with its own position. A batch that
fails is replayed one item per transaction to find the item at fault, which is
quarantined; the items before it are kept and the view stops there, never skipping
silently. Transient failures (the store is down or busy) propagate, for the supervising
loop to retry with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from projections import batch, tracking
from projections.batch import Moved, is_transient
from projections.feed import Feed, Item, is_patient_event
from projections.sql.database import Database
from projections.sql.postgres import SMALL
from projections.view import Tables, View

log = logging.getLogger("carelog.views")


@dataclass
class Lane:
    """A view as a runner drives it: where it stands and whether it is halted."""

    view: View
    key: str
    tables: Tables
    positions: dict[str, int] = field(default_factory=dict)
    synced: dict[str, str | None] = field(default_factory=dict)
    halted: tuple[str, int] | None = None
    skipped: dict[str, set[int]] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)
    """Quarantined positions left open by an earlier run: retried, resolved if they pass."""


@dataclass(frozen=True)
class Read:
    """One batch of a log, read once for every lane that stood at its position."""

    stream: str
    items: Sequence[Item]
    expected: int
    """The position it was read after: a lane commits it only if it still stands there."""
    synced: str | None
    """When the batch reached the log's head (None: a full batch, more to come)."""


class Follower:
    """Drives a set of lanes over the logs, one round at a time."""

    def __init__(
        self,
        db: Database,
        feeds: Mapping[str, Feed],
        lanes: list[Lane],
        batch_size: int = 500,
        on_commit: Callable[[Lane], None] | None = None,
    ) -> None:
        self.db = db
        self.feeds = feeds
        self.lanes = lanes
        self.batch_size = batch_size
        self.on_commit = on_commit
        self.lock = threading.Lock()
        self.refresh_every = 1.0
        self._refreshed = -1e9
        self._reader: ThreadPoolExecutor | None = None
        self._writers: ThreadPoolExecutor | None = None
        self._ahead: dict[tuple[str, int], Future[list[Any]]] = {}

    def close(self) -> None:
        for pool in (self._reader, self._writers):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._reader = self._writers = None
        self._ahead.clear()

    def _read(self, stream: str, feed: Feed, position: int) -> Sequence[Item]:
        """The batch after ``position``. While catching up, the next batch is fetched in
        the background as this one is decoded, projected and committed, so the store's
        query overlaps the work; decoding stays here (a decoding thread would hold
        Python's lock while this one waits to resume after each round trip)."""
        ahead = self._ahead.pop((stream, position), None)
        fetched = ahead.result() if ahead is not None else feed.fetch(position, self.batch_size)
        items = feed.items(fetched)
        if len(items) == self.batch_size:
            if self._reader is None:
                self._reader = ThreadPoolExecutor(1, thread_name_prefix="carelog-views-read")
            last = items[-1].position
            self._ahead[(stream, last)] = self._reader.submit(feed.fetch, last, self.batch_size)
            while len(self._ahead) > 4:  # lanes at other positions keep theirs
                self._ahead.pop(next(iter(self._ahead)))
        return items

    def refresh(self, lanes: list[Lane]) -> None:
        """Positions as the database has them (another runner, a skip or a rebuild may
        have moved them); a halted lane resumes once its item was skipped or fixed."""
        found = tracking.positions(self.db, [lane.key for lane in lanes])
        for lane in lanes:
            for stream in lane.view.streams:
                position, synced = found.get((lane.key, stream), (0, None))
                lane.positions[stream] = position
                lane.synced[stream] = synced
            if lane.halted is not None:
                stream, position = lane.halted
                status = tracking.quarantine_status(self.db, lane.key, stream, position)
                if status != "open" or lane.positions[stream] >= position:
                    log.warning(
                        "view %s resumes after position %s (%s)", lane.key, position, status
                    )
                    lane.halted = None
                    lane.skipped = tracking.skipped_positions(self.db, lane.key)

    def run_once(self, only: Collection[str] | None = None, refresh: bool = False) -> int:
        """Process at most one batch per lane and stream; returns the items projected.

        Positions are reloaded when asked, at most a second apart otherwise (a lane behind
        the database only costs a discarded batch), and always while a lane is halted."""
        lanes = [lane for lane in self.lanes if only is None or lane.view.name in only]
        with self.lock:
            now = time.monotonic()
            if (
                refresh
                or now - self._refreshed > self.refresh_every
                or any(lane.halted for lane in lanes)
            ):
                self.refresh(lanes)
                self._refreshed = now
            done = 0
            for stream, feed in self.feeds.items():
                groups: dict[int, list[Lane]] = defaultdict(list)
                for lane in lanes:
                    if stream in lane.view.streams and lane.halted is None:
                        groups[lane.positions[stream]].append(lane)
                for position in sorted(groups):
                    items = self._read(stream, feed, position)
                    if not items:
                        continue
                    synced = tracking.now_text() if len(items) < self.batch_size else None
                    read = Read(stream, items, position, synced)
                    done += self._apply_all(groups[position], read)
            return done

    def _apply_all(self, lanes: list[Lane], read: Read) -> int:
        """One batch into every lane at that position. A few items (following the head)
        go into every lane in one transaction. A full batch on PostgreSQL: each lane's
        transaction runs in its own thread (they touch different rows and tables, and
        most of their time is spent waiting for the server)."""
        if len(lanes) > 1 and len(read.items) <= SMALL:
            return self._apply_together(lanes, read)
        if len(lanes) == 1 or self.db.dialect != "postgres":
            return sum(self._apply(lane, read) for lane in lanes)
        if self._writers is None:
            self._writers = ThreadPoolExecutor(
                len(self.lanes), thread_name_prefix="carelog-views-write"
            )
        futures = [self._writers.submit(self._apply, lane, read) for lane in lanes]
        done, error = 0, None
        for future in futures:
            try:
                done += future.result()
            except Exception as exc:  # every lane finishes its batch before one error is raised
                error = error or exc
        if error is not None:
            raise error
        return done

    def _apply_together(self, lanes: list[Lane], read: Read) -> int:
        """A few live items (the common case when following the head) into every lane in
        one transaction; lanes whose position moved are left for the next round."""
        stream, items = read.stream, read.items
        targets = [
            batch.Target(lane.key, lane.view, lane.tables, lane.skipped.get(stream, set()))
            for lane in lanes
        ]
        try:
            found = batch.apply_together(
                self.db, targets, stream, items, read.expected, read.synced
            )
        except Exception as exc:
            if is_transient(exc):
                raise
            # one lane's projection failed and none committed: one transaction per lane
            # keeps the others going and quarantines the item at fault
            return sum(self._apply(lane, read) for lane in lanes)
        done = 0
        for lane in lanes:
            if found[lane.key] == read.expected:
                self._committed(lane, stream, items[-1].position)
                done += len(items)
            else:
                lane.positions[stream] = found[lane.key]
        return done

    def _project(
        self, lane: Lane, read: Read, items: Sequence[Item], expected: int, synced: str | None
    ) -> None:
        """``items`` of the batch into the lane, in a transaction of their own."""
        skipped = lane.skipped.get(read.stream, set())
        batch.apply(
            self.db, lane.view, lane.tables, lane.key, read.stream, items, expected, skipped, synced
        )

    def _apply(self, lane: Lane, read: Read) -> int:
        stream, items = read.stream, read.items
        try:
            self._project(lane, read, items, read.expected, read.synced)
        except Moved as moved:
            lane.positions[stream] = moved.position
            return 0
        except Exception as exc:
            if is_transient(exc):
                raise
            return self._isolate(lane, read)
        self._committed(lane, stream, items[-1].position)
        return len(items)

    def _isolate(self, lane: Lane, read: Read) -> int:
        """Replay a failed batch item by item: keep what projects, quarantine the first
        item that does not, and halt the lane there."""
        stream, items, expected = read.stream, read.items, read.expected
        done = 0
        for n, item in enumerate(items):
            try:
                last = n == len(items) - 1
                self._project(lane, read, [item], expected, read.synced if last else None)
            except Moved as moved:
                lane.positions[stream] = moved.position
                return done
            except Exception as exc:
                if is_transient(exc):
                    raise
                self._quarantine(lane, stream, item, exc)
                return done
            expected = item.position
            self._committed(lane, stream, expected)
            done += 1
        return done

    def _committed(self, lane: Lane, stream: str, position: int) -> None:
        lane.positions[stream] = position
        fixed = lane.pending.get(stream)
        if fixed is not None and position >= fixed:
            with self.db.transaction() as cur:
                tracking.resolve_fixed(cur, lane.key, stream, position)
            del lane.pending[stream]
            log.warning(
                "view %s projected position %s after a fix: no longer quarantined", lane.key, fixed
            )
        if self.on_commit is not None:
            self.on_commit(lane)

    def _quarantine(self, lane: Lane, stream: str, item: Item, exc: BaseException) -> None:
        payload = item.payload
        patient_id: str | None = None
        version: int | None = None
        if is_patient_event(payload):
            patient_id, version = str(payload.originator_id), payload.originator_version
        elif isinstance(payload, dict):
            patient_id = payload.get("patient_id")
        tracking.quarantine(
            self.db, lane.key, stream, item.position, item.topic, patient_id, version, exc
        )
        lane.halted = (stream, item.position)
        lane.pending[stream] = item.position
        log.error(
            "view %s quarantined %s position %s (%s): %s; it stops there until the code"
            " is fixed or an operator runs 'carelog projections skip %s %s --reason ...'",
            lane.key,
            stream,
            item.position,
            item.topic,
            exc,
            lane.key,
            item.position,
        )
