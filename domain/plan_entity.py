"""What every entity of the plan shares: frozen, read by attribute, copied to plain dicts
for snapshots and rebuilt from them (old snapshots included).

An entity is never changed in place: a change stores a changed copy (``dataclasses.replace``)
in its collection, which is what lets ``PlanState.branch`` share entities between states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self, cast

from domain.json_value import JsonObject, JsonValue

Revive = Callable[[object], object]
"""How a snapshot's plain value of one field becomes the entity's (a nested entity, a
tuple, a vocabulary member)."""


def plain(value: object) -> JsonValue:
    """An entity, or anything holding entities, as plain dicts and lists."""
    if isinstance(value, Entity):
        return value.as_dict()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return cast(JsonValue, value)  # text, numbers, times: stored as they are


class Entity:
    """Base of the plan's entities (each a ``@dataclass(frozen=True, slots=True)``)."""

    __slots__ = ()

    REVIVE: ClassVar[Mapping[str, Revive]] = {}
    """Per field, how a snapshot's plain value becomes the entity's (nested entities,
    tuples, vocabulary); fields not named here are stored as they are."""

    def as_dict(self) -> JsonObject:
        """The entity as a snapshot stores it (the shape the plan had as plain dicts)."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self:
        """Rebuild from ``as_dict`` or from an older snapshot's dict: keys it lacks take
        their defaults (or None), keys this version no longer has are dropped."""
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name in data:
                value = data[f.name]
                revive = cls.REVIVE.get(f.name)
                values[f.name] = (
                    revive(value) if revive is not None and value is not None else value
                )
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                values[f.name] = None
        return cls(**values)


def tuple_of(items: object) -> tuple[object, ...]:
    """REVIVE for a tuple of plain values (a snapshot stores it as a list)."""
    return tuple(cast(Iterable[object], items))


def dict_of(value: object) -> dict[str, object]:
    """REVIVE for a plain object kept as a dict (a drug, a dose, a correction's fields)."""
    return dict(cast(Mapping[str, object], value))


def member_of(vocabulary: type[StrEnum]) -> Revive:
    """REVIVE for a word of the plan's vocabulary (stored as its plain text)."""
    return lambda word: vocabulary(str(word))


def entities(kind: type[Entity]) -> Revive:
    """REVIVE for a tuple of entities."""
    return lambda items: tuple(
        kind.from_dict(i) if isinstance(i, Mapping) else i for i in cast(Iterable[object], items)
    )


def entity(kind: type[Entity]) -> Revive:
    """REVIVE for one nested entity."""
    return lambda item: kind.from_dict(item) if isinstance(item, Mapping) else item


@dataclasses.dataclass(frozen=True, slots=True)
class Author(Entity):
    """Who recorded an entry, and in which role."""

    id: str
    role: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Recorded(Entity):
    """An entity that one event made: that event, its author, and the two clocks."""

    event_id: str
    actor: Author
    effective_at: datetime
    recorded_at: datetime

    REVIVE: ClassVar[Mapping[str, Revive]] = {"actor": entity(Author)}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Correctable(Recorded):
    """A recorded entry that a correction may patch, marked once one did
    (``domain/plan_corrections.py``)."""

    corrected: bool = False


def revive_with(base: type[Entity], **more: Revive) -> dict[str, Revive]:
    """A subclass's REVIVE: its base's plus its own fields'."""
    return {**base.REVIVE, **more}
