"""Reconstructing a patient's record under CareLog's two clocks.

- as known at T: the events *recorded* up to T, in recorded order;
- in effect at T: the events known (now, or at a chosen T1), applied in *effective* order
  up to T; a correction applies with the entry it corrects, and a corrected effective
  time moves its entry.

Both fold events with ``PlanState.apply``, the same fold the aggregate uses. A process
keeps the streams it was asked about in memory with plan checkpoints in both orders
(``services/reading/history_index.py``), brought up to date from the log before every query, so a
query on a long record folds a few hundred events, not all of them. ``replay_known_at`` and
``replay_in_effect_at`` below are the straight folds over a whole stream: the definition
the checkpointed answers are tested against, and the answer where checkpoints cannot help.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.patient_record import PatientRecord
from domain.plan import PlanState, event_type
from services.reading.history_index import DEFAULT_EVERY, PatientTimeline, effective_keys
from services.writing.application import CareLogApplication, _uuid

DEFAULT_CACHED_EVENTS = 20_000

METADATA = {
    "originator_id",
    "originator_version",
    "timestamp",
    "originator_topic",
    "event_id",
    "actor_id",
    "actor_role",
    "effective_at",
    "correlation_id",
}
INTERNAL_TYPES = {"Created"}


def public_event_types() -> list[str]:
    """Every event type a history can show (a ``type`` filter names some of them): the
    patient record's event classes, by their public names."""
    found: set[str] = set()
    for value in vars(PatientRecord).values():
        if isinstance(value, type) and hasattr(value, "TOPIC") and hasattr(value, "apply"):
            found.add(str(getattr(value, "TYPE", value.__name__)))
    return sorted(found - INTERNAL_TYPES - {"Event"})  # ("Event": their base class)


@dataclass(frozen=True)
class Reconstruction:
    """A plan as it stood under a clock, with the version it stood at."""

    state: PlanState
    version: int
    events_applied: int


class History:
    """Point-in-time reads of patient records.

    Keeps the streams of the patients it was asked about in memory, up to
    ``cached_events`` events in all (least recently used first out); a stream longer than
    that on its own is still answered, then let go."""

    def __init__(
        self,
        app: CareLogApplication,
        cached_events: int = DEFAULT_CACHED_EVENTS,
        checkpoint_every: int = DEFAULT_EVERY,
    ) -> None:
        self.app = app
        self.cached_events = cached_events
        self.checkpoint_every = checkpoint_every
        self._timelines: OrderedDict[UUID, PatientTimeline] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def _timeline(self, patient_id: str | UUID) -> Iterator[PatientTimeline]:
        """The patient's timeline, brought up to date with the log, under its lock."""
        pid = _uuid(patient_id)
        with self._lock:
            timeline = self._timelines.get(pid)
            if timeline is None:
                timeline = self._timelines[pid] = PatientTimeline(self.checkpoint_every)
            self._timelines.move_to_end(pid)
        with timeline.lock:
            try:
                if self.app.keyring is not None:  # erased: the cached events go too
                    self.app.keyring.check_readable(pid)
                timeline.extend(self.app.events.get(pid, gt=timeline.version))
                if not timeline.version:
                    self.app.get_record(patient_id)  # raises NotFoundError
            except BaseException:
                with self._lock:
                    self._timelines.pop(pid, None)
                raise
            self._evict(keep=pid)
            yield timeline

    def _evict(self, keep: UUID) -> None:
        with self._lock:
            total = sum(t.version for t in self._timelines.values())
            while total > self.cached_events and len(self._timelines) > 1:
                pid = next(iter(self._timelines))
                if pid == keep:
                    self._timelines.move_to_end(pid)
                    continue
                total -= self._timelines.pop(pid).version
            if total > self.cached_events:  # one stream above the whole budget
                self._timelines.pop(keep, None)

    def events(self, patient_id: str | UUID) -> list[Any]:
        """The patient's whole stream, in recorded order."""
        with self._timeline(patient_id) as timeline:
            return list(timeline.events)

    def at_version(self, patient_id: str | UUID, version: int) -> Reconstruction:
        record = self.app.get_record(patient_id, version=version)
        return Reconstruction(record.plan, record.version, record.version)

    def known_at(self, patient_id: str | UUID, when: datetime) -> Reconstruction:
        """The record as CareLog showed it at ``when``."""
        with self._timeline(patient_id) as timeline:
            return Reconstruction(*timeline.known_at(when))

    def in_effect_at(
        self, patient_id: str | UUID, when: datetime, known_at: datetime | None = None
    ) -> Reconstruction:
        """What was clinically in effect at ``when``, as known now (or at ``known_at``)."""
        with self._timeline(patient_id) as timeline:
            found = timeline.in_effect_at(when, known_at)
            if found is None:
                return replay_in_effect_at(timeline.events, when, known_at)
            return Reconstruction(*found)

    def timeline(
        self,
        patient_id: str | UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: Sequence[str] = (),
        after_version: int = 0,
        limit: int = 100,
        clock: str = "recorded",
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Every event with both times and its actor, in recorded order, or with
        ``clock="effective"`` in effective-time order (ties in recorded order); ``since``
        and ``until`` read the same clock. The cursor is the version of the last event
        shown, so it is stable however many events arrive later (under the effective clock,
        a later entry dated before the cursor's event is not on the following pages: it
        is in the first ones when read again)."""
        events = self.events(patient_id)
        position: dict[int, int] = {}
        if clock == "effective":
            events = sorted(events, key=lambda e: (e.effective_at, e.originator_version))
            position = {e.originator_version: i for i, e in enumerate(events)}
        start = position.get(after_version, -1) + 1 if clock == "effective" else 0
        rows: list[dict[str, Any]] = []
        for event in events[start:]:
            if clock == "recorded" and event.originator_version <= after_version:
                continue
            kind = event_type(event)
            if kind in INTERNAL_TYPES or (types and kind not in types):
                continue
            at = event.timestamp if clock == "recorded" else event.effective_at
            if (since and at < since) or (until and at > until):
                continue
            if len(rows) == limit:
                return rows, rows[-1]["version"]
            rows.append(describe(event))
        return rows, None


def describe(event: Any) -> dict[str, Any]:
    """An event as the history shows it."""
    return {
        "id": event.event_id,
        "type": event_type(event),
        "version": event.originator_version,
        "recorded_at": event.timestamp,
        "effective_at": event.effective_at,
        "actor": {"id": event.actor_id, "role": event.actor_role},
        "correlation_id": event.correlation_id,
        "data": {k: v for k, v in vars(event).items() if k not in METADATA},
    }


def in_effect_order(events: Iterable[Any], until: datetime) -> list[Any]:
    """Order events by clinical time, keeping each correction beside its entry."""
    events = list(events)
    keys = effective_keys(events)
    ordered = sorted(events, key=lambda e: keys[e.event_id])
    return [e for e in ordered if keys[e.event_id][0] == 0 or keys[e.event_id][1] <= until]


def replay_known_at(events: Sequence[Any], when: datetime) -> Reconstruction:
    """The straight fold of the events recorded by ``when``."""
    known = [e for e in events if e.timestamp <= when]
    return _fold(known, known)


def replay_in_effect_at(
    events: Sequence[Any], when: datetime, known_at: datetime | None = None
) -> Reconstruction:
    """The straight fold, in clinical-time order, of the events in effect at ``when``."""
    if known_at is not None:
        events = [e for e in events if e.timestamp <= known_at]
    return _fold(in_effect_order(events, when), events)


def _fold(events: Sequence[Any], known: Sequence[Any]) -> Reconstruction:
    state = PlanState()
    for event in events:
        state.apply(event)
    version = max((e.originator_version for e in known), default=0)
    return Reconstruction(state, version, len(events))
