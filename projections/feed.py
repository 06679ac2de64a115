"""What views read: the global event log and the access log, as positioned items.

A view tracks every position it has seen, including the events it ignores (the patient
index, the library's unused ``Created`` topic), so waiting for any position a write
returned always ends. An event that cannot be decoded is not dropped: its item carries
the error, and the view that reaches it quarantines it like any other poison event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.errors import RecordErasedError
from domain.patient_record import PatientRecord

EVENTS = "events"
ACCESS = "access"

IGNORED_TOPICS = frozenset({"carelog.PatientRecord.Created"})
IGNORED_PREFIXES = ("carelog.PatientIndex",)

_PATIENT_EVENTS = (PatientRecord.PatientRegistered, PatientRecord.Event)


def is_ignored(topic: str) -> bool:
    return topic in IGNORED_TOPICS or topic.startswith(IGNORED_PREFIXES)


def is_patient_event(event: Any) -> bool:
    return isinstance(event, _PATIENT_EVENTS)


@dataclass(slots=True)
class Item:
    """One position of a log: a decoded event (or an access entry), None when the view
    must skip it, or the error that stopped it being decoded."""

    position: int
    topic: str
    payload: Any = None
    error: BaseException | None = None
    patient_id: str | None = None
    """Set for patient events, converted once for every view that reads the batch."""

    def value(self) -> Any:
        """The payload, raising the decode error here so the view that reaches it
        quarantines it."""
        if self.error is not None:
            raise self.error
        return self.payload


class AccessSource(Protocol):
    """The access log as the audit trail reads it (``services.access.access_log.AccessLog``)."""

    channel: str

    def read_after(self, position: int, limit: int) -> list[dict[str, Any]]: ...
    def head(self) -> int: ...
    def on_append(self, callback: Callable[[int], None]) -> None: ...
    def record(
        self,
        *,
        actor_id: str | None,
        actor_role: str | None,
        patient_id: str | None,
        what: str,
        request_id: str,
        source: str,
        allowed: bool = True,
        flagged: bool = False,
        reason: str | None = None,
        kind: str = "read",
        details: dict[str, Any] | None = None,
    ) -> int: ...


class EventSource:
    """The application's notification log, decoded once per batch."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.channel: str | None = getattr(app.recorder, "channel_name", None)

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def read(self, after: int, limit: int) -> list[Item]:
        return self.items(self.fetch(after, limit))

    def fetch(self, after: int, limit: int) -> list[Any]:
        """The stored notifications after ``after`` (I/O only: safe to run ahead in
        another thread without holding Python's lock for long)."""
        return list(
            self.app.recorder.select_notifications(
                start=after, limit=limit, inclusive_of_start=False
            )
        )

    def items(self, fetched: list[Any]) -> list[Item]:
        return [self.decode(n) for n in fetched]

    def decode(self, notification: Any) -> Item:
        topic = notification.topic
        if is_ignored(topic):
            return Item(notification.id, topic)
        try:
            event = self.app.mapper.to_domain_event(notification)
        except RecordErasedError:  # an erased patient's event: the views hold nothing of it
            return Item(notification.id, topic)
        except Exception as exc:  # carried to the view that reaches it: quarantined there
            return Item(notification.id, topic, error=exc)
        if is_patient_event(event):
            return Item(notification.id, topic, event, None, str(event.originator_id))
        return Item(notification.id, topic, event)

    def recorded_at(self, position: int) -> datetime | None:
        """When the event at ``position`` (or the first one after it) was recorded."""
        items = self.read(position - 1, 1)
        if not items or items[0].error is not None or items[0].payload is None:
            return None
        stamp = getattr(items[0].payload, "timestamp", None)
        return stamp if isinstance(stamp, datetime) else None


class AccessFeed:
    """The access log as positioned items."""

    def __init__(self, source: AccessSource) -> None:
        self.source = source
        self.channel: str | None = source.channel

    def head(self) -> int:
        return self.source.head()

    def read(self, after: int, limit: int) -> list[Item]:
        return self.items(self.fetch(after, limit))

    def fetch(self, after: int, limit: int) -> list[Any]:
        return self.source.read_after(after, limit)

    def items(self, fetched: list[Any]) -> list[Item]:
        return [Item(int(row["position"]), "access", row) for row in fetched]

    def recorded_at(self, position: int) -> datetime | None:
        rows = self.source.read_after(position - 1, 1)
        if not rows:
            return None
        at = rows[0]["at"]
        return datetime.fromisoformat(at) if isinstance(at, str) else at


class Feed(Protocol):
    channel: str | None

    def head(self) -> int: ...
    def read(self, after: int, limit: int) -> Sequence[Item]: ...
    def fetch(self, after: int, limit: int) -> list[Any]: ...
    def items(self, fetched: list[Any]) -> list[Item]: ...
    def recorded_at(self, position: int) -> datetime | None: ...
