"""Reconstructing a patient's record under CareLog's two clocks.

- as known at T: the events *recorded* up to T, in recorded order;
- in effect at T: the events known (now, or at a chosen T1), applied in *effective* order
  up to T; a correction applies with the entry it corrects, and a corrected effective
  time moves its entry.

Each query reads the patient's stream once and folds it with ``PlanState.apply``, the same
fold the aggregate uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.plan import PlanState, event_type
from services.application import CareLogApplication, _uuid

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


@dataclass(frozen=True)
class Reconstruction:
    """A plan as it stood under a clock, with the version it stood at."""

    state: PlanState
    version: int
    events_applied: int


class History:
    """Point-in-time reads of patient records."""

    def __init__(self, app: CareLogApplication) -> None:
        self.app = app

    def events(self, patient_id: str | UUID) -> list[Any]:
        """The patient's whole stream, in recorded order (one read of the store)."""
        events = list(self.app.events.get(_uuid(patient_id)))
        if not events:
            self.app.get_record(patient_id)  # raises NotFoundError
        return events

    def at_version(self, patient_id: str | UUID, version: int) -> Reconstruction:
        record = self.app.get_record(patient_id, version=version)
        return Reconstruction(record.plan, record.version, record.version)

    def known_at(self, patient_id: str | UUID, when: datetime) -> Reconstruction:
        """The record as CareLog showed it at ``when``."""
        known = [e for e in self.events(patient_id) if e.timestamp <= when]
        return _fold(known, known)

    def in_effect_at(
        self, patient_id: str | UUID, when: datetime, known_at: datetime | None = None
    ) -> Reconstruction:
        """What was clinically in effect at ``when``, as known now (or at ``known_at``)."""
        events = self.events(patient_id)
        if known_at is not None:
            events = [e for e in events if e.timestamp <= known_at]
        return _fold(in_effect_order(events, when), events)

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
        """Every event with both times and its actor; the cursor is a version, so it is
        stable however many events arrive later."""
        rows: list[dict[str, Any]] = []
        for event in self.events(patient_id):
            if event.originator_version <= after_version:
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
    by_id = {e.event_id: e for e in events}
    effective = {e.event_id: e.effective_at for e in events}
    for e in events:  # known corrections of an effective time move their entry
        if (
            event_type(e) == "EntryCorrected"
            and "effective_at" in e.fields
            and e.corrected_event_id in effective
        ):
            effective[e.corrected_event_id] = e.fields["effective_at"]

    def key(e: Any) -> tuple[int, datetime, int, int]:
        if event_type(e) == "PatientRegistered":
            return (0, e.effective_at, 0, 0)
        if event_type(e) == "EntryCorrected":
            target = by_id.get(e.corrected_event_id)
            if target is not None:
                return (
                    1,
                    effective[target.event_id],
                    target.originator_version,
                    e.originator_version,
                )
        return (1, effective[e.event_id], e.originator_version, 0)

    ordered = sorted(events, key=key)
    return [e for e in ordered if event_type(e) == "PatientRegistered" or key(e)[1] <= until]


def _fold(events: Sequence[Any], known: Sequence[Any]) -> Reconstruction:
    state = PlanState()
    for event in events:
        state.apply(event)
    version = max((e.originator_version for e in known), default=0)
    return Reconstruction(state, version, len(events))
