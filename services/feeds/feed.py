"""Reading the feeds from the log: a cursor-paged page and a live follower, per role.

The cursor is the global position, so a client resumes exactly where it stopped (the JSON
feed's ``after``, the stream's ``Last-Event-ID``). A page scans only the stored topics the
role's feed carries and only decodes events of the caller's patients; ``next_after`` is the
last position scanned, so a client never scans the events it was not shown a second time.
Care-team membership is asked at delivery time: a clinician removed from a team stops
receiving that patient's events on the next page or wake-up. A live follower also asks
``allowed`` (is the caller still signed in and on the same care teams?) before each
delivery and at least every ``RECHECK_SECONDS`` while the log is quiet, and ends when the
answer is no: a stream opened before a revocation does not outlive it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from domain.errors import RecordErasedError
from services.feeds.feed_contract import STORED_TOPICS, role_event_types
from services.feeds.feed_message import redact_for_role, to_cloudevent
from services.feeds.log_watch import LogWatcher
from services.writing.application import CareLogApplication

SCAN_CHUNK = 1000
"""Notifications read from the store per query."""

MAX_SCAN = 100_000
"""Positions one page may pass over before it returns (possibly empty): the client asks
again from ``next_after``, so a sparse feed never holds a request for long."""

FOLLOW_PAGE = 500
"""Messages a follower reads per query when it is behind."""

STOP_CHECK = 0.25
"""Seconds a follower waits for the log before looking at its stop flag again."""

RECHECK_SECONDS = 2.0
"""Seconds a quiet follower goes at most without asking whether its caller is still
allowed (the contract is at least every 5 s)."""


class FeedReader:
    """The HTTP feeds' reader: role-redacted CloudEvents for a set of patients."""

    def __init__(self, app: CareLogApplication, watcher: LogWatcher | None = None) -> None:
        self.app = app
        self.watcher = watcher or LogWatcher(app.recorder)

    def page(
        self, *, role: str, patient_ids: set[str], after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` messages after position ``after`` that ``role`` may see for
        ``patient_ids``, in position order, and the last position scanned."""
        after = max(0, int(after))
        limit = max(1, int(limit))
        head = int(self.app.recorder.max_notification_id() or 0)
        event_types = role_event_types(role)
        if head <= after:
            return [], after
        if not event_types or not patient_ids:
            return [], head
        wanted = {str(p) for p in patient_ids}
        topics = [STORED_TOPICS[t] for t in sorted(event_types)]
        end = min(head, after + MAX_SCAN)
        items: list[dict[str, Any]] = []
        cursor = after
        while cursor < end:
            batch = self.app.recorder.select_notifications(
                cursor, SCAN_CHUNK, stop=end, topics=topics, inclusive_of_start=False
            )
            for notification in batch:
                if str(notification.originator_id) not in wanted:
                    continue
                message = self._message(notification, role)
                if message is not None:
                    items.append(message)
                    if len(items) == limit:
                        return items, int(notification.id)
            cursor = int(batch[-1].id) if len(batch) == SCAN_CHUNK else end
        return items, cursor

    def follow(
        self,
        *,
        role: str,
        patient_ids_fn: Callable[[], set[str]],
        after: int,
        stop: threading.Event,
        heartbeat: float = 15.0,
        allowed: Callable[[], bool] | None = None,
    ) -> Iterator[dict[str, Any] | None]:
        """Messages as they are written, from position ``after`` on; None every
        ``heartbeat`` seconds without one (a heartbeat tick for the stream). Ends when
        ``stop`` is set, or when ``allowed`` says the caller may no longer read."""
        cursor = max(0, int(after))
        last_sent = time.monotonic()
        last_checked = last_sent
        behind = True
        while not stop.is_set():
            if allowed is not None and time.monotonic() - last_checked >= RECHECK_SECONDS:
                if not allowed():
                    return
                last_checked = time.monotonic()
            if behind:
                items, cursor = self.page(
                    role=role, patient_ids=patient_ids_fn(), after=cursor, limit=FOLLOW_PAGE
                )
                if items and allowed is not None:
                    if not allowed():  # nothing is delivered past a revocation
                        return
                    last_checked = time.monotonic()
                for item in items:
                    yield item
                    if stop.is_set():
                        return
                if items:
                    last_sent = time.monotonic()
                    continue
            quiet = time.monotonic() - last_sent
            if quiet >= heartbeat:
                yield None
                last_sent = time.monotonic()
                quiet = 0.0
            wait = min(heartbeat - quiet, STOP_CHECK)
            behind = self.watcher.wait_beyond(cursor, timeout=wait) > cursor

    def close(self) -> None:
        self.watcher.close()

    def _message(self, notification: Any, role: str) -> dict[str, Any] | None:
        try:
            event = self.app.mapper.to_domain_event(notification)
        except RecordErasedError:  # an erased patient's events are no longer sent
            return None
        message = to_cloudevent(event, int(notification.id))
        return redact_for_role(message, role) if message is not None else None
