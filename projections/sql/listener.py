"""LISTEN/NOTIFY on PostgreSQL: wake the runner the moment a write commits.

The event store NOTIFYs its channel in every insert transaction (the notification is
delivered at commit), and so does the access log. The listener only wakes the runner;
it never carries positions, so a lost notification costs at most one safety poll. A lost
connection is retried with backoff, and the runner is woken on reconnecting to catch up
on whatever arrived meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

log = logging.getLogger("carelog.views")


class Listener:
    """A supervised thread holding one LISTEN connection."""

    def __init__(
        self,
        conninfo: str,
        channels: Sequence[str],
        wake: Callable[[], None],
        max_backoff: float = 5.0,
    ) -> None:
        self.conninfo = conninfo
        self.channels = [c for c in dict.fromkeys(channels) if c]
        self.wake = wake
        self.max_backoff = max_backoff
        self.connected = threading.Event()
        self.last_error: str | None = None
        self.reconnects = 0
        self.backend_pid: int | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carelog-views-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg
        from psycopg import sql

        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    for channel in self.channels:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.backend_pid = conn.info.backend_pid
                    self.connected.set()
                    self.last_error = None
                    backoff = 0.1
                    self.wake()  # whatever was written while we were not listening
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.25, stop_after=1):
                            self.wake()
            except Exception as exc:  # supervised: log, back off, reconnect
                self.connected.clear()
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.reconnects += 1
                log.warning(
                    "views listener lost its connection (%s); retrying in %.1fs",
                    self.last_error,
                    backoff,
                )
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff)
        self.connected.clear()
