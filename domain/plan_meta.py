"""What the fold keeps of every event: its public name, its author and clocks (``Meta``),
and which entity it made (a ``Source``, so a later correction finds that entity)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, TypeVar

from domain.plan_entities import Source
from domain.plan_entity import Author

if TYPE_CHECKING:
    from domain import patient_events as R
    from domain.plan import PlanState

_TYPES: dict[type, str] = {}


def event_type(event: object) -> str:
    """The public name of an event (its class name, e.g. ``DoseChanged``), looked up once
    per class: every view and feed asks it of every event."""
    cls = type(event)
    name = _TYPES.get(cls)
    if name is None:
        name = _TYPES[cls] = type_name(cls)
    return name


def type_name(cls: type) -> str:
    """The public name of an event class (what views and feeds key by)."""
    return str(getattr(cls, "TYPE", cls.__name__))


class Meta(TypedDict):
    """What every entity made by an event keeps of it."""

    event_id: str
    actor: Author
    effective_at: datetime
    recorded_at: datetime


def meta_of(e: R.Event | R.PatientRegistered) -> Meta:
    return {
        "event_id": e.event_id,
        "actor": Author(e.actor_id, e.actor_role),
        "effective_at": e.effective_at,
        "recorded_at": e.timestamp,
    }


E = TypeVar("E")


def changed(entities: dict[str, E], key: str, change: Callable[[E], E]) -> bool:
    """Store the changed copy of the entity under ``key``; False when there is none (an
    unknown reference is ignored, never fatal: see ``PlanState.apply``)."""
    entity = entities.get(key)
    if entity is None:
        return False
    entities[key] = change(entity)
    return True


def record_source(state: PlanState, e: R.Event | R.PatientRegistered, kind: str, key: str) -> None:
    state.sources[e.event_id] = Source(
        type=event_type(e),
        kind=kind,
        key=key,
        actor_id=e.actor_id,
        note_kind=getattr(e, "kind", None) if kind == "note" else None,
    )
