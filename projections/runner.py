"""``Views``: the views and the runner that keeps them caught up, as CareLog uses them.

- ``start()`` follows the logs in a background thread (the embedded default: the web
  process runs it); ``run()`` does the same in the foreground (``carelog projections run``,
  one or more worker processes: exactly-once holds with several at once);
- ``alongside(task, name)`` adds a periodic duty to whichever process follows the log
  (the composition root adds the signed audit checkpoints): each task runs in a thread of
  its own from ``start()`` until ``stop()``;
- ``catch_up()`` processes everything now, synchronously (tests, the CLI);
- ``wait_for(position)`` is read-your-writes: it polls tightly (1 ms, rising to 20 ms) and
  wakes at once when this process's runner commits;
- ``status()``, ``skip()`` and ``rebuild()`` are what operators use.

Live following: PostgreSQL wakes the runner by LISTEN/NOTIFY (with a safety poll every
half second for a lost notification); SQLite cannot notify across processes, so the
runner polls, every 2 ms while busy, backing off to 50 ms when idle. A failing store is
retried with backoff; a poison event quarantines its view (see ``follower``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.errors import InvalidInputError, NotFoundError
from projections import tracking
from projections.audit_trail import AuditTrailView
from projections.current_plan import CurrentPlanView
from projections.feed import ACCESS, EVENTS, AccessFeed, AccessSource, EventSource, Feed
from projections.follower import Follower, Lane
from projections.migration import ensure
from projections.plan_states import DEFAULT_CACHE, PlanStates, record_folder
from projections.read_your_writes import projected, wait_until
from projections.rebuild import Progress, rebuild
from projections.skip import skip_quarantined
from projections.sql.database import Database
from projections.sql.listener import Listener
from projections.sql.postgres import split_schema
from projections.status import view_status
from projections.team_dashboard import TeamDashboardView
from projections.treatment_trials import TreatmentTrialsView
from projections.view import View

log = logging.getLogger("carelog.views")
ProgressFactory = Callable[[int, str], Progress]
Task = Callable[[threading.Event], None]  # runs until the event is set


class Views:
    """CareLog's views, their runner and their operations."""

    def __init__(
        self,
        app: Any,
        db: Database,
        access: AccessSource | None = None,
        *,
        batch_size: int = 500,
        progress_factory: ProgressFactory | None = None,
        poll_min: float = 0.002,
        poll_max: float = 0.05,
        safety_poll: float = 0.5,
        cache_size: int = DEFAULT_CACHE,
    ) -> None:
        self.app = app
        self.db = db
        self.access = access
        self.poll_min, self.poll_max, self.safety_poll = poll_min, poll_max, safety_poll
        self.progress_factory = progress_factory
        self.current_plan = CurrentPlanView(db, self._states("current_plan", cache_size))
        self.audit_trail = AuditTrailView(db)
        self.team_dashboard = TeamDashboardView(db, self._states("team_dashboard", cache_size))
        self.treatment_trials = TreatmentTrialsView(
            db, self._states("treatment_trials", cache_size)
        )
        self.views: dict[str, View] = {
            v.name: v
            for v in (
                self.current_plan,
                self.audit_trail,
                self.team_dashboard,
                self.treatment_trials,
            )
        }
        self.events = EventSource(app)
        self.feeds: dict[str, Feed] = {EVENTS: self.events}
        if access is not None:
            self.feeds[ACCESS] = AccessFeed(access)
            access.on_append(lambda _position: self.notify())
        ensure(db, self.views.values())
        self.lanes = {name: Lane(view, name, view.live) for name, view in self.views.items()}
        for item in tracking.open_quarantines(db):
            lane = self.lanes.get(item.view)
            if lane is not None:
                lane.pending.setdefault(item.stream, item.position)
        self.follower = Follower(
            db, self.feeds, list(self.lanes.values()), batch_size, on_commit=self._committed
        )
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._listener: Listener | None = None
        self._tasks: list[tuple[str, Task]] = []
        self._task_threads: list[threading.Thread] = []

    def _states(self, view: str, size: int) -> PlanStates:
        states = PlanStates(size)
        states.record_state = record_folder(self.app, self.db, view)
        return states

    # -- following ---------------------------------------------------------------------------
    def start(self, names: Iterable[str] | None = None) -> None:
        """Follow the logs in a background thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        only = self._names(names)
        self._stopping.clear()
        self._listener = self._make_listener()
        if self._listener is not None:
            self._listener.start()
        self._thread = threading.Thread(
            target=self._loop, args=(only,), daemon=True, name="carelog-views"
        )
        self._thread.start()
        self._task_threads = [
            threading.Thread(target=task, args=(self._stopping,), daemon=True, name=name)
            for name, task in self._tasks
        ]
        for thread in self._task_threads:
            thread.start()

    def alongside(self, task: Task, name: str) -> None:
        """Run ``task(stopping)`` in a thread of its own while the runner follows the log;
        it must return soon after ``stopping`` is set."""
        self._tasks.append((name, task))

    def run(self, names: Iterable[str] | None = None, stop: threading.Event | None = None) -> None:
        """Follow the logs in the foreground until ``stop`` is set (a worker process)."""
        self.start(names)
        try:
            while not (stop.wait(0.5) if stop is not None else self._stopping.wait(0.5)):
                pass
        finally:
            self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop(timeout)
            self._listener = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for thread in self._task_threads:
            thread.join(timeout)
        self._task_threads = []
        self.follower.close()

    @property
    def batch_size(self) -> int:
        """Events per transaction when catching up or rebuilding."""
        return self.follower.batch_size

    @batch_size.setter
    def batch_size(self, size: int) -> None:
        self.follower.batch_size = size

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def listening(self) -> bool:
        """PostgreSQL: the LISTEN connection is up (else the runner polls)."""
        return self._listener is not None and self._listener.connected.is_set()

    def notify(self) -> None:
        """Something was written: look now rather than at the next poll."""
        self._wake.set()

    def catch_up(self, names: Iterable[str] | None = None) -> int:
        """Project everything up to the current heads now; returns the items projected."""
        only = self._names(names)
        total = 0
        refresh = True
        while True:
            done = self.follower.run_once(only, refresh)
            total += done
            refresh = False
            if not done:
                return total

    def _loop(self, only: set[str]) -> None:
        backoff = 0.05
        idle = self.poll_min
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                done = self.follower.run_once(only)
                self.last_error = None
                backoff = 0.05
            except Exception as exc:  # supervised: report, back off, retry
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("views runner: %s; retrying in %.2fs", self.last_error, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if done:
                idle = self.poll_min
                continue
            self._wake.wait(self.safety_poll if self.listening else idle)
            idle = min(idle * 2, self.poll_max)

    def _make_listener(self) -> Listener | None:
        if self.db.dialect != "postgres":
            return None
        channels = [feed.channel for feed in self.feeds.values() if feed.channel]
        return Listener(split_schema(self.db.url)[0], channels, self.notify)

    def _committed(self, lane: Lane) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- read-your-writes --------------------------------------------------------------------
    def wait_for(
        self,
        position: int,
        timeout: float = 2.0,
        *,
        names: Sequence[str] | None = None,
        stream: str = EVENTS,
    ) -> bool:
        """True once every view (or ``names``) has projected the log up to ``position``;
        False after ``timeout`` seconds. ``stream="access"``: the access log's position."""
        chosen = [n for n in self._names(names) if stream in self.views[n].streams]
        self.notify()
        return wait_until(
            lambda: projected(self.db, self.lanes, position, chosen, stream), self._changed, timeout
        )

    # -- operations --------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """Per view: position, head, lag in events and seconds, quarantined items."""
        return view_status(
            self.db,
            self.views,
            self.feeds,
            self.last_error,
            self._listener.last_error if self._listener else None,
        )

    def skip(
        self, name: str, position: int, reason: str, actor: Any, source: str = "cli"
    ) -> dict[str, Any]:
        """Move a view past its quarantined item, recorded in the audit trail."""
        self.view(name)
        done = skip_quarantined(self.db, self.access, name, position, reason, actor, source)
        self.notify()
        return done

    def rebuild(self, name: str, progress: bool | Progress = True) -> dict[str, Any]:
        """Rebuild a view from zero beside the live one and swap it in atomically."""
        view = self.view(name)
        reporter: Progress | None = None
        if progress is True and self.progress_factory is not None:
            total = sum(self.feeds[s].head() for s in view.streams if s in self.feeds)
            reporter = self.progress_factory(total, "events")
        elif progress is not True and progress is not False:
            reporter = progress
        missing = [s for s in view.streams if s not in self.feeds]
        if missing:
            raise InvalidInputError(f"{name} needs the {', '.join(missing)} log to rebuild.")
        result = rebuild(self.db, view, self.feeds, self.batch_size, reporter)
        self.notify()
        self._committed(self.lanes[name])
        return result.as_dict()

    def view(self, name: str) -> View:
        """The view of that name, or NotFoundError naming the views there are."""
        view = self.views.get(name)
        if view is None:
            raise NotFoundError(
                f"There is no view {name!r}: use one of {', '.join(self.views)}.", "name"
            )
        return view

    def _names(self, names: Iterable[str] | None) -> set[str]:
        if names is None:
            return set(self.views)
        chosen = set(names) or set(self.views)
        for name in chosen:
            self.view(name)
        return chosen
