"""A patient's folded plan, as the current-plan and team-dashboard views fold it.

Both views fold events with ``domain.plan.PlanState``, the fold the aggregate itself uses,
so a view can never disagree with the record about what an event means. What a view
stores is only what it shows (a bounded document per patient), never the whole folded
state: writing a patient's entire history back on every batch would make a batch cost
grow with the length of each history.

Between batches the folded states stay in memory (an LRU per view table), each valid for
exactly one record version. A row whose version the cache does not hold (a restart, an
eviction, a rolled-back batch, another runner) is folded again from the record itself,
which the event store rebuilds from its latest snapshot. A batch loads the versions of
the patients it touches in one query, folds its events in memory and writes the changed
documents in one statement: that is what makes a rebuild of 100,000 events fast.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson

from domain.plan import PlanState, event_type
from projections import tracking
from projections.feed import Item
from projections.sql.database import Cursor, Database

RecordState = Callable[[str, int], PlanState]
"""(patient id, version) -> the patient's plan folded up to that version."""

DEFAULT_CACHE = 2048


def iso(value: datetime | None) -> str | None:
    """Stored times: UTC, fixed width (microseconds), so text order is time order."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC) if value.utcoffset() else value.replace(tzinfo=UTC)
    return value.isoformat(timespec="microseconds")


def revive(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Folded:
    """One patient's state in a view, with the record version and log position it reflects
    and the JSON the view last stored for it, by section."""

    plan: PlanState
    version: int = 0
    position: int = 0
    fragments: dict[str, str] | None = None


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_JSON_SORTED = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text for a view's row, written by orjson (several times faster than
    ``json``; views write one or more documents per event). A value orjson refuses (an
    integer beyond 64 bits) is written by ``json`` instead, never turned into an error
    that would halt the view."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except orjson.JSONEncodeError:
        return (_JSON_SORTED if sort_keys else _JSON).encode(value)


EVERYTHING: frozenset[str] = frozenset({"*"})
"""In a ``Sections``' ``affects``: every part (an event that can change any of them)."""


def of_plan(render: Callable[[PlanState], Any]) -> Callable[[str, PlanState], Any]:
    """A ``Sections`` renderer for a section drawn from the folded plan alone (most are:
    the patient's id is needed only where the section shows it)."""
    return lambda _pid, plan: render(plan)


class Sections:
    """A stored document as JSON fragments, one per section, each encoded again only when
    an event type that can change it was folded (unknown types change everything)."""

    def __init__(
        self,
        renderers: dict[str, Callable[[str, PlanState], Any]],
        affects: dict[str, set[str] | frozenset[str]],
    ) -> None:
        self.renderers = renderers
        self.everything = frozenset(renderers)
        self.affects = {
            kind: self.everything if parts is EVERYTHING else frozenset(parts)
            for kind, parts in affects.items()
        }
        for parts in self.affects.values():
            assert parts <= self.everything, parts

    def encode(self, patient_id: str, folded: Folded, kinds: Sequence[str] | None) -> str:
        fragments = folded.fragments
        if fragments is None or kinds is None:
            fragments = folded.fragments = {}
            dirty: frozenset[str] | set[str] = self.everything
        else:
            dirty = set()
            for kind in kinds:
                dirty |= self.affects.get(kind, self.everything)
        for part in dirty:
            fragments[part] = dumps(self.renderers[part](patient_id, folded.plan))
        return "{" + ",".join(f'"{part}":{fragments[part]}' for part in self.renderers) + "}"


class PlanStates:
    """Folded plans kept between batches, by (table, patient), one version each."""

    def __init__(self, size: int = DEFAULT_CACHE) -> None:
        self.size = size
        self.record_state: RecordState | None = None
        self._cache: OrderedDict[tuple[str, str], Folded] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def take(self, cur: Cursor, table: str, patient_ids: Iterable[str]) -> dict[str, Folded]:
        """The states of these patients at the versions the table's rows hold (a patient
        with no row yet starts empty). Taken out of the cache until ``keep``."""
        ids = sorted(set(patient_ids))
        if not ids:
            return {}
        where, params = cur.any_of("patient_id", ids)
        rows = cur.execute(
            f"SELECT patient_id, version, position FROM {table} WHERE {where}", params
        ).fetchall()
        stored = {r["patient_id"]: (int(r["version"]), int(r["position"])) for r in rows}
        out: dict[str, Folded] = {}
        for pid in ids:
            with self._lock:
                cached = self._cache.pop((table, pid), None)
            version, position = stored.get(pid, (0, 0))
            if cached is not None and cached.version == version:
                out[pid] = cached
            elif version == 0:
                out[pid] = Folded(PlanState())
            else:
                out[pid] = Folded(self._rebuild(pid, version), version, position)
        return out

    def keep(self, table: str, states: dict[str, Folded]) -> None:
        """Put folded states back for the next batch, dropping the least recently used."""
        with self._lock:
            for pid, folded in states.items():
                self._cache[(table, pid)] = folded
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)

    def forget(self, table: str | None = None) -> None:
        with self._lock:
            if table is None:
                self._cache.clear()
            else:
                for key in [k for k in self._cache if k[0] == table]:
                    del self._cache[key]

    def _rebuild(self, patient_id: str, version: int) -> PlanState:
        if self.record_state is None:
            raise RuntimeError("no way to fold a patient's record again: set record_state")
        self.misses += 1
        return self.record_state(patient_id, version)


def record_folder(app: Any, db: Database, view: str) -> RecordState:
    """How ``view`` folds a patient's record again up to a version: from the record's
    latest snapshot, or event by event, leaving out the events an operator skipped in
    this view (so the view never regains what was skipped)."""

    def fold_record(patient_id: str, version: int) -> PlanState:
        skipped = tracking.skipped_versions(db, view, patient_id)
        if not skipped:
            record = app.repository.get(UUID(patient_id), version=version)
            plan: PlanState = record.plan
            return plan.branch()  # a copy: never the store's (entities are frozen)
        state = PlanState()
        for event in app.events.get(UUID(patient_id), lte=version):
            if event.originator_version not in skipped:
                state.apply(event)
        return state

    return fold_record


def touched(items: Sequence[Item]) -> set[str]:
    """The patients a batch's events belong to (decode errors surface later, in ``fold``)."""
    return {i.patient_id for i in items if i.patient_id is not None}


def fold(states: dict[str, Folded], items: Sequence[Item]) -> dict[str, list[str]]:
    """Apply a batch's patient events to the states; returns, per patient changed (in
    first-touched order), the types of its events in this batch."""
    changed: dict[str, list[str]] = {}
    for item in items:
        event = item.value()
        patient_id = item.patient_id
        if patient_id is None:
            continue
        folded = states.get(patient_id)
        if folded is None:
            folded = states[patient_id] = Folded(PlanState())
        folded.plan.apply(event)
        folded.version = event.originator_version
        folded.position = item.position
        changed.setdefault(patient_id, []).append(event_type(event))
    return changed


TEAM_EVENTS = frozenset({"PatientRegistered", "CareTeamMemberAssigned", "CareTeamMemberRemoved"})


def members(
    states: dict[str, Folded], changed: dict[str, list[str]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Patients whose care team may have changed, and their active members' rows."""
    moved = [pid for pid, kinds in changed.items() if TEAM_EVENTS.intersection(kinds)]
    rows = [
        (pid, m.clinician_id, m.role)
        for pid in moved
        for m in states[pid].plan.care_team.values()
        if m.active
    ]
    return moved, rows
