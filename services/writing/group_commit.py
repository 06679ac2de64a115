"""Group commit: concurrent commands share one transaction.

Every save takes the store's exclusive lock, so writers queue behind each other no matter
how many clients there are. Here a committer thread saves whatever commands are waiting
in one ``save(*aggregates)``: each command was validated on its own, each caller gets its
own recordings back, and a single client pays no extra latency (the committer waits for
more only while other commands are still being decided, and at most the window).

If the shared transaction fails on a version conflict, the batch is saved again one
aggregate at a time, so the conflicting command gets its own conflict (and is retried by
the write loop) while the others commit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError


@dataclass
class _Pending:
    aggregates: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    recordings: list[Any] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def ids(self) -> set[Any]:
        return {a.id for a in self.aggregates}


class GroupCommitter:
    """Saves aggregates of concurrent commands together (see module docstring)."""

    def __init__(self, save: Any, window_seconds: float = 0.002, max_batch: int = 256) -> None:
        self._save = save
        self.window = window_seconds
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._deciding = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.batched_commands = 0
        self.last_batch_size = 0

    # -- the write loop tells us when a command is being decided ---------------------------
    def deciding(self) -> None:
        with self._cond:
            self._deciding += 1

    def decided(self) -> None:
        with self._cond:
            self._deciding -= 1
            self._cond.notify_all()

    def save(self, *aggregates: Any) -> list[Any]:
        """Save with the next batch; returns this caller's recordings."""
        pending = _Pending(aggregates)
        with self._cond:
            if self._closed:
                raise RuntimeError("CareLog is shutting down; the write was not recorded.")
            self._start()
            self._queue.append(pending)
            self._cond.notify_all()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.recordings

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="carelog-group-commit", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                deadline = time.monotonic() + self.window
                while (
                    self._deciding > 0
                    and len(self._queue) < self.max_batch
                    and (left := deadline - time.monotonic()) > 0
                ):
                    self._cond.wait(left)
                batch = self._take()
            self._commit(batch)

    def _take(self) -> list[_Pending]:
        """Up to max_batch waiting saves, at most one per aggregate (two versions of one
        record in one transaction would conflict with each other)."""
        batch: list[_Pending] = []
        seen: set[Any] = set()
        rest: list[_Pending] = []
        for pending in self._queue:
            if len(batch) < self.max_batch and not (pending.ids & seen):
                batch.append(pending)
                seen |= pending.ids
            else:
                rest.append(pending)
        self._queue = rest
        return batch

    def _commit(self, batch: list[_Pending]) -> None:
        self.batches += 1
        self.batched_commands += len(batch)
        self.last_batch_size = len(batch)
        if len(batch) == 1:
            self._one(batch[0])
            return
        aggregates = [a for p in batch for a in p.aggregates]
        unsaved = [list(a.pending_events) for a in aggregates]
        try:
            recordings = self._save(*aggregates)
        except IntegrityError:
            # save() took the pending events off the aggregates: put them back, then save
            # one command at a time so only the conflicting one fails.
            for aggregate, events in zip(aggregates, unsaved, strict=True):
                aggregate.pending_events[:] = events
            for pending in batch:
                self._one(pending)
            return
        except BaseException as exc:  # every caller must hear of it
            for pending in batch:
                pending.error = exc
                pending.done.set()
            return
        for pending in batch:
            ids = pending.ids
            pending.recordings = [r for r in recordings if r.domain_event.originator_id in ids]
            pending.done.set()

    def _one(self, pending: _Pending) -> None:
        try:
            pending.recordings = self._save(*pending.aggregates)
        except BaseException as exc:  # handed to the caller
            pending.error = exc
        pending.done.set()
