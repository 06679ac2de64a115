"""Which events an export covers, under CareLog's two clocks, and what they fold into.

- ``as_of`` T: the events *recorded* up to T (what the chart said then);
- ``effective_at`` T: the events *in effect* at T, in effective order (late entries land
  where they belong; a correction applies with the entry it corrects);
- both: what was known at ``as_of`` about what was in effect at ``effective_at``.

The selected events are folded with ``PlanState.apply``, the fold the aggregate and the
history use, so an export can never disagree with the plan or the history about what an
event means. Psychotherapy notes (and corrections of them) are dropped here, before any
builder sees the events, so nothing downstream can leak their existence; progress notes
only when the caller may read them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.errors import InvalidInputError, NotFoundError
from domain.plan import PlanState, event_type
from services.reading.history import INTERNAL_TYPES, in_effect_order

LINKS = (
    "order_id",
    "goal_id",
    "follow_up_id",
    "alert_id",
    "consent_id",
    "clinician_id",
    "corrected_event_id",
    "condition_id",
)
"""Event attributes that tie an event to an entity made by an earlier event."""


@dataclass
class Selection:
    """The events an export covers (in the order applied), the state they fold into, and
    an index from linked ids to the events that mention them."""

    patient_id: str
    events: list[Any]
    state: PlanState
    as_of: datetime | None
    effective_at: datetime | None
    by_link: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def about(self, link: str, value: str | None, *types: str) -> list[Any]:
        """The selected events whose ``link`` attribute is ``value`` (of ``types`` if given)."""
        if value is None:
            return []
        found = self.by_link.get((link, value), [])
        return [e for e in found if not types or event_type(e) in types]

    def ids_about(self, link: str, value: str | None, *types: str) -> list[str]:
        return [str(e.event_id) for e in self.about(link, value, *types)]


def select(
    events: Sequence[Any],
    patient_id: str,
    *,
    as_of: datetime | None,
    effective_at: datetime | None,
    include_progress_notes: bool,
) -> Selection:
    """Pick, order and fold a patient's events for an export."""
    for name, moment in (("as_of", as_of), ("effective_at", effective_at)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInputError(f"{name} needs a time zone, e.g. 'Z'.", name)
    chosen = [e for e in events if event_type(e) not in INTERNAL_TYPES]
    if as_of is not None:
        chosen = [e for e in chosen if e.timestamp <= as_of]
    if not chosen:
        raise NotFoundError(f"Patient {patient_id} was not registered yet at {as_of}.", "as_of")
    if effective_at is not None:
        chosen = in_effect_order(chosen, effective_at)
    state = PlanState()
    for event in chosen:
        state.apply(event)
    hidden = hidden_event_ids(chosen, include_progress_notes)
    shown = [e for e in chosen if e.event_id not in hidden]
    index: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for event in shown:
        for link in LINKS:
            value = getattr(event, link, None)
            if value is not None:
                index[(link, str(value))].append(event)
    return Selection(patient_id, shown, state, as_of, effective_at, dict(index))


def hidden_event_ids(events: Sequence[Any], include_progress_notes: bool) -> set[str]:
    """Notes the export must not show, not even as existence, and corrections of them."""
    hidden = {
        e.event_id
        for e in events
        if event_type(e) == "NoteAdded"
        and (e.kind == "psychotherapy" or not include_progress_notes)
    }
    hidden |= {
        e.event_id
        for e in events
        if event_type(e) == "EntryCorrected" and e.corrected_event_id in hidden
    }
    return hidden
