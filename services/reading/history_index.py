"""One patient's stream held in memory for point-in-time reads, with plan checkpoints.

A history query used to read the whole stream and fold it: about 250 ms for a
10,000-event record. Here a patient's decoded events stay in memory (brought up to date
from the log before every query: one indexed read, usually empty) in both of CareLog's
orders, each with a ladder of plan checkpoints every ``every`` events:

- recorded order (as known at T): the events recorded by T are the longest prefix whose
  running maximum of recorded times is <= T, plus, only where recorded times are out of
  version order, a few later events recorded by T;
- in-effect order (in effect at T): the events sorted as ``in_effect_order`` sorts them;
  those in effect at T are a prefix of that order (found by bisection over the sort keys).
  A late entry or a moved effective time re-sorts the order and drops only the
  checkpoints after the first place it changed.

A query branches the nearest checkpoint (``PlanState.branch``: a copy of the collections,
the entities shared) and folds fewer than ``every`` events on top. The answers are exactly
those of the straight folds in ``services/reading/history.py``; the property tests compare the two.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from domain.plan import PlanState, event_type

DEFAULT_EVERY = 256
Key = tuple[int, datetime, int, int]


def effective_keys(events: Sequence[Any]) -> dict[str, Key]:
    """Each event's place in clinical-time order: registration first, then by effective
    time (as last corrected), each correction right after the entry it corrects."""
    by_id = {e.event_id: e for e in events}
    effective = {e.event_id: e.effective_at for e in events}
    for e in events:  # known corrections of an effective time move their entry
        if moves_an_entry(e) and e.corrected_event_id in effective:
            effective[e.corrected_event_id] = e.fields["effective_at"]

    def key(e: Any) -> Key:
        kind = event_type(e)
        if kind == "PatientRegistered":
            return (0, e.effective_at, 0, 0)
        if kind == "EntryCorrected":
            target = by_id.get(e.corrected_event_id)
            if target is not None:
                return (
                    1,
                    effective[target.event_id],
                    target.originator_version,
                    e.originator_version,
                )
        return (1, effective[e.event_id], e.originator_version, 0)

    return {e.event_id: key(e) for e in events}


def moves_an_entry(event: Any) -> bool:
    """A correction of an entry's effective time: it moves the entry in clinical order."""
    return event_type(event) == "EntryCorrected" and "effective_at" in event.fields


class Ladder:
    """Plan checkpoints every ``every`` events of one order of a patient's events."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.checkpoints: list[PlanState] = [PlanState()]
        self.head = PlanState()  # the fold of the first ``folded`` events
        self.folded = 0

    def extend(self, order: Sequence[Any]) -> None:
        """Fold the events of ``order`` not folded yet, keeping a checkpoint every
        ``every`` events."""
        for event in order[self.folded :]:
            self.head.apply(event)
            self.folded += 1
            if self.folded % self.every == 0:
                self.checkpoints.append(self.head.branch())

    def truncate(self, unchanged: int) -> None:
        """Forget what folded events after the first ``unchanged`` of the order."""
        if unchanged >= self.folded:
            return
        keep = unchanged // self.every
        del self.checkpoints[keep + 1 :]
        self.head = self.checkpoints[keep].branch()
        self.folded = keep * self.every

    def fold(
        self, order: Sequence[Any], start: int, end: int, include: Callable[[Any], bool]
    ) -> tuple[PlanState, list[Any]]:
        """The first ``start`` events of the order (all included), then those of
        ``start:end`` that ``include`` accepts; returns the state and the events applied
        after the checkpoint it started from."""
        at = min(start // self.every, len(self.checkpoints) - 1)
        state = self.checkpoints[at].branch()
        applied = []
        for event in order[at * self.every : start]:
            state.apply(event)
        for event in order[start:end]:
            if include(event):
                state.apply(event)
                applied.append(event)
        return state, applied


class PatientTimeline:
    """A patient's events in both orders, with their checkpoint ladders.

    Not thread-safe on its own: ``History`` holds ``lock`` while it extends and queries."""

    def __init__(self, every: int = DEFAULT_EVERY) -> None:
        self.lock = threading.Lock()
        self.events: list[Any] = []  # recorded (version) order
        self.stamps: list[datetime] = []
        self.known_prefix: list[datetime] = []  # running maximum of recorded times
        self.later_floor: list[datetime] = []  # minimum recorded time from here on
        self.recorded = Ladder(every)
        self.effective: list[Any] = []  # in-effect order, as known now
        self.effective_bounds: list[tuple[int, datetime]] = []  # (rank, effective time)
        self.effective_known: list[datetime] = []  # running maximum of recorded times
        self.moves: list[datetime] = []  # recorded times of effective-time corrections
        self._last_key: Key | None = None
        self.corrections_precede_targets = False
        self.in_effect = Ladder(every)

    @property
    def version(self) -> int:
        return len(self.events)

    def extend(self, new: Iterable[Any]) -> None:
        """Add the events recorded since the last call (in version order)."""
        new = list(new)
        if not new:
            return
        self.events.extend(new)
        for event in new:
            self.stamps.append(event.timestamp)
            last = self.known_prefix[-1] if self.known_prefix else event.timestamp
            self.known_prefix.append(max(last, event.timestamp))
            if moves_an_entry(event):
                self.moves.append(event.timestamp)
        _extend_suffix_minimum(self.later_floor, self.stamps)

    def _sync_in_effect(self) -> None:
        """Bring the in-effect order and its ladder up to date (only when asked in that
        clock: a reader of the plain stream, such as an export, pays for neither)."""
        new = self.events[len(self.effective) :]
        if new and not self._append_in_effect(new):
            self._sort_in_effect()

    def _append_in_effect(self, new: list[Any]) -> bool:
        """The common case: entries that take effect after everything known so far go on
        the end of the in-effect order (no re-sort)."""
        keys = []
        last = self._last_key
        for event in new:
            if event_type(event) == "EntryCorrected":
                return False
            key: Key = (
                (0, event.effective_at, 0, 0)
                if event_type(event) == "PatientRegistered"
                else (1, event.effective_at, event.originator_version, 0)
            )
            if last is not None and key <= last:
                return False
            keys.append(key)
            last = key
        self._last_key = last
        self.effective.extend(new)
        self.effective_bounds.extend(key[:2] for key in keys)
        for event in new:
            self.effective_known.append(
                max(self.effective_known[-1], event.timestamp)
                if self.effective_known
                else event.timestamp
            )
        self.in_effect.extend(self.effective)
        return True

    def _sort_in_effect(self) -> None:
        keys = effective_keys(self.events)
        stamps = {e.event_id: e.timestamp for e in self.events}
        self.corrections_precede_targets = any(
            event_type(e) == "EntryCorrected"
            and e.corrected_event_id in stamps
            and e.timestamp < stamps[e.corrected_event_id]
            for e in self.events
        )
        order = sorted(self.events, key=lambda e: keys[e.event_id])
        self._last_key = keys[order[-1].event_id]
        unchanged = next(
            (i for i, (a, b) in enumerate(zip(order, self.effective, strict=False)) if a is not b),
            min(len(order), len(self.effective)),
        )
        self.effective = order
        self.effective_bounds = [keys[e.event_id][:2] for e in order]
        self.effective_known = _running_maximum([e.timestamp for e in order])
        self.in_effect.truncate(unchanged)
        self.in_effect.extend(order)

    # -- queries -----------------------------------------------------------------------------
    def known_at(self, when: datetime) -> tuple[PlanState, int, int]:
        """(state, version, events applied) for the events recorded by ``when``."""
        self.recorded.extend(self.events)
        prefix = bisect_right(self.known_prefix, when)
        end = bisect_right(self.later_floor, when)
        state, applied = self.recorded.fold(self.events, prefix, end, lambda e: e.timestamp <= when)
        version = applied[-1].originator_version if applied else prefix
        return state, version, prefix + len(applied)

    def version_known_at(self, when: datetime) -> int:
        prefix = bisect_right(self.known_prefix, when)
        end = bisect_right(self.later_floor, when)
        later = [e.originator_version for e in self.events[prefix:end] if e.timestamp <= when]
        return max(later, default=prefix)

    def in_effect_at(
        self, when: datetime, known_at: datetime | None
    ) -> tuple[PlanState, int, int] | None:
        """(state, version, events applied) in effect at ``when`` as known now or at
        ``known_at``; None where the order as known then differs from the order as known
        now (an effective time corrected after ``known_at``): the caller folds it whole."""
        self._sync_in_effect()
        end = bisect_right(self.effective_bounds, (1, when))
        if known_at is None:
            state, applied = self.in_effect.fold(self.effective, end, end, _always)
            return state, self.version, end
        if self.corrections_precede_targets or (self.moves and max(self.moves) > known_at):
            return None
        prefix = min(bisect_right(self.effective_known, known_at), end)
        state, applied = self.in_effect.fold(
            self.effective, prefix, end, lambda e: e.timestamp <= known_at
        )
        return state, self.version_known_at(known_at), prefix + len(applied)


def _always(_: Any) -> bool:
    return True


def _running_maximum(values: Sequence[datetime]) -> list[datetime]:
    out: list[datetime] = []
    for value in values:
        out.append(max(out[-1], value) if out else value)
    return out


def _extend_suffix_minimum(floor: list[datetime], values: Sequence[datetime]) -> None:
    """Bring ``floor`` (floor[i] = min(values[i:])) up to the length of ``values``: new
    values can only lower earlier entries, and only until one stays as it was."""
    known = len(floor)
    floor.extend(values[known:])
    for i in range(len(floor) - 2, -1, -1):
        lower = min(floor[i], floor[i + 1])
        if i < known and lower == floor[i]:
            break
        floor[i] = lower
