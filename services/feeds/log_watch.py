"""Waking the followers of the global log when it grows, one watcher per process.

Server-sent-event streams and the Kafka relay follow the log live. Each asking the store
"anything new?" every few milliseconds would multiply the store's load by the number of
followers, so one thread per process watches the head and wakes every waiter at once.
SQLite cannot notify: the watcher polls the head every few milliseconds, and only while
someone waits. PostgreSQL NOTIFYs a channel on every insert (the eventsourcing recorder
does it inside the writing transaction, so a notification means the rows are committed);
the watcher LISTENs there and still reads the head once a second, in case a notification
is lost with a dropped connection.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

SQLITE_POLL = 0.003
"""Seconds between head reads on SQLite (a max() on the primary key: microseconds)."""

POSTGRES_POLL = 1.0
"""Seconds between head reads on PostgreSQL when no notification arrives."""

IDLE_EXIT = 5.0
"""Seconds without waiters after which the watcher thread ends (and frees its connection)."""


class LogWatcher:
    """The head of the global log (its highest position), and a way to wait for it to pass
    a position."""

    def __init__(self, recorder: Any, *, poll_interval: float | None = None) -> None:
        self._recorder = recorder
        self._listen = hasattr(recorder, "channel_name") and hasattr(recorder, "datastore")
        self._poll = poll_interval or (POSTGRES_POLL if self._listen else SQLITE_POLL)
        self._cond = threading.Condition()
        self._head = 0
        self._waiters = 0
        self._last_waiter = time.monotonic()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    @property
    def head(self) -> int:
        """The highest position known to the watcher (read fresh when nobody is waiting)."""
        with self._cond:
            if self._thread is not None:
                return self._head
        return self._read_head()

    def wait_beyond(self, position: int, timeout: float) -> int:
        """Block until the head passes ``position`` (or ``timeout`` seconds pass, or the
        watcher closes); returns the head as last seen."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiters += 1
            try:
                self._start()
                while self._head <= position and not self._closed.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                return self._head
            finally:
                self._waiters -= 1
                self._last_waiter = time.monotonic()

    def close(self) -> None:
        self._closed.set()
        with self._cond:
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # -- the watching thread -----------------------------------------------------------------
    def _start(self) -> None:
        """Start the thread if it is not running (called holding the condition)."""
        if self._thread is None and not self._closed.is_set():
            self._thread = threading.Thread(target=self._run, name="carelog-log-watch", daemon=True)
            self._thread.start()

    def _read_head(self) -> int:
        return int(self._recorder.max_notification_id() or 0)

    def _publish(self, head: int) -> bool:
        """Record a new head and wake the waiters; False when the thread should end."""
        with self._cond:
            if head > self._head:
                self._head = head
                self._cond.notify_all()
            idle = self._waiters == 0 and time.monotonic() - self._last_waiter > IDLE_EXIT
            if idle or self._closed.is_set():
                self._thread = None
                return False
            return True

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                if self._listen:
                    self._run_listening()
                else:
                    self._run_polling()
                return
            except Exception:  # a watcher must outlive a store hiccup
                log.warning("watching the log failed; retrying in 1 s", exc_info=True)
                self._closed.wait(1.0)
        with self._cond:
            self._thread = None

    def _run_polling(self) -> None:
        while self._publish(self._read_head()):
            self._closed.wait(self._poll)

    def _run_listening(self) -> None:
        from psycopg import sql

        channel = sql.SQL("LISTEN {0}").format(sql.Identifier(self._recorder.channel_name))
        with self._recorder.datastore.get_connection() as conn:
            conn.execute(channel)
            try:
                while self._publish(self._read_head()):
                    for _ in conn.notifies(timeout=self._poll, stop_after=1):
                        pass
            finally:  # the connection goes back to the pool: it must stop listening
                conn.execute("UNLISTEN *")
