"""A patient event as a feed message: the role-independent CloudEvents 1.0 message the contract
gives it (``to_cloudevent``, what a Kafka topic carries), and that message cut down to what one
role's feed may see (``redact_for_role``). Which events, types and fields: ``feed_contract``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from domain.plan import event_type
from services.feeds.feed_contract import (
    BY_EVENT,
    BY_TYPE,
    CONTENT_TYPE,
    ENVELOPE_DATA,
    NOTE_ONLY_FIELDS,
    SOURCE,
    SPEC_VERSION,
)


def to_cloudevent(event: Any, position: int) -> dict[str, Any] | None:
    """The role-independent CloudEvents 1.0 message for a patient event at ``position`` in
    the global log, or None when the event never leaves CareLog."""
    feed_type = BY_EVENT.get(event_type(event))
    if feed_type is None:
        return None
    extract = _EXTRACTORS.get(feed_type.event, _attributes)
    data = extract(event, feed_type.fields)
    if data is None:
        return None
    data.update(
        effective_at=_json(event.effective_at),
        position=position,
        actor={"id": event.actor_id, "role": event.actor_role},
    )
    return {
        "specversion": SPEC_VERSION,
        "id": str(event.event_id),
        "source": SOURCE,
        "type": feed_type.type,
        "subject": str(event.originator_id),
        "time": _json(event.timestamp),
        "datacontenttype": CONTENT_TYPE,
        "data": data,
    }


def redact_for_role(cloudevent: Mapping[str, Any], role: str) -> dict[str, Any] | None:
    """The message as ``role``'s feed carries it, or None when that feed does not carry its
    type (unknown types included: a newer contract never leaks through an older reader)."""
    feed_type = BY_TYPE.get(str(cloudevent.get("type")))
    if feed_type is None:
        return None
    allowed = feed_type.roles.get(str(role))
    if allowed is None:
        return None
    data = cloudevent.get("data") or {}
    kept = {k: v for k, v in data.items() if k in allowed or k in ENVELOPE_DATA}
    return {**cloudevent, "data": kept}


# -- extracting the contract's fields from an event ------------------------------------------
Extractor = Callable[[Any, tuple[str, ...]], "dict[str, Any] | None"]


def _attributes(event: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    state = vars(event)
    return {name: _json(state.get(name)) for name in fields}


def _prescribed(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    data = _attributes(event, fields)
    drug = event.drug or {}
    data["drug"] = {k: _json(drug.get(k)) for k in ("name", "generic", "classes", "rxnorm")}
    return data


def _note(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if event.kind != "progress":  # psychotherapy notes: not even their existence leaves
        return None
    return {
        "note_id": event.note_id,
        "author": event.actor_id,
        "kind": event.kind,
        "modality": event.modality,
    }


def _corrected(event: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    names = sorted(event.fields)
    if NOTE_ONLY_FIELDS & set(names):
        return None
    # names only: the values follow the corrected entry's own redaction, which a message
    # about a correction cannot know; a consumer holding that entry refetches it
    return {"corrected_event_id": event.corrected_event_id, "corrected_fields": names}


_EXTRACTORS: dict[str, Extractor] = {
    "MedicationPrescribed": _prescribed,
    "NoteAdded": _note,
    "EntryCorrected": _corrected,
}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json(value: Any) -> Any:
    """A JSON-ready copy: times in UTC with ``Z``, dates as ISO dates, ids as strings."""
    kind = type(value)
    if kind in _PLAIN:  # most values: the relay converts tens of thousands a second
        return value
    convert = _CONVERT.get(kind)  # the exact types events hold, without an isinstance chain
    if convert is not None:
        return convert(value)
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(v) for v in value]
    return value


def _time(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        k if type(k) is str else str(k): v if type(v) in _PLAIN else _json(v)
        for k, v in value.items()
    }


def _sequence(value: Any) -> list[Any]:
    return [v if type(v) in _PLAIN else _json(v) for v in value]


_CONVERT: dict[type, Any] = {
    datetime: _time,
    date: date.isoformat,
    UUID: str,
    dict: _mapping,
    list: _sequence,
    tuple: _sequence,
}
