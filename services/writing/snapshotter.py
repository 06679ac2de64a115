"""Snapshots written on a thread of their own, off the write path.

A snapshot encodes a patient's whole plan: tens of milliseconds for a long record. Taken
inside ``save()`` it holds up the command that crossed the interval and, under group
commit, every command of that batch (it doubled the p99 of 16 concurrent writers). A
snapshot is only a shortcut for loading a record, so it can be written a moment later,
or not at all: a record without its newest snapshot loads from the one before and the
events since. What is handed over is taken under the patient's lock from the record
just saved, with the plan branched (``PlanState.branch``: entities are never changed in
place), so later commands on the same record cannot reach it while it is encoded.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_STOP = object()


class Snapshotter:
    """Puts snapshots into the snapshot store from a queue, one at a time."""

    def __init__(self, put: Callable[[list[Any]], Any], capacity: int = 1000) -> None:
        self._put = put
        self._queue: queue.Queue[Any] = queue.Queue(capacity)
        self.written = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="carelog-snapshots", daemon=True)
        self._thread.start()

    def submit(self, snapshot: Any) -> None:
        """Queue a snapshot; never blocks a write (a full queue drops it: harmless)."""
        try:
            self._queue.put_nowait(snapshot)
        except queue.Full:
            self.dropped += 1

    def flush(self) -> None:
        """Wait until every queued snapshot is written (or failed)."""
        self._queue.join()

    def close(self) -> None:
        """Write what is queued, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            snapshot = self._queue.get()
            try:
                if snapshot is _STOP:
                    return
                self._put([snapshot])
                self.written += 1
            except Exception:  # a snapshot is a shortcut: losing one loses nothing
                log.warning("snapshot of %s not written", snapshot.originator_id, exc_info=True)
            finally:
                self._queue.task_done()
