"""Resource ids, references and FHIR time formats for the export.

Every resource id is a name-based UUID (v5) of its type and CareLog's own key, so the same
fact gets the same id in every export: two exports of one patient can be compared resource
by resource, and a receiver can update rather than duplicate. The patient keeps CareLog's
patient id. Entries are addressed ``urn:uuid:<id>`` and referenced the same way (with the
``type`` beside it), which resolves inside a collection bundle without any server base.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2b52-8d0e-5d53-9a44-3c1d2f0e7a10")
"""Fixed namespace of CareLog's FHIR resource ids (changing it would re-key every export)."""


def resource_id(resource_type: str, *key: str) -> str:
    """The stable id of the ``resource_type`` resource CareLog derives from ``key``."""
    return str(uuid5(NAMESPACE, "/".join((resource_type, *key))))


def full_url(rid: str) -> str:
    return f"urn:uuid:{rid}"


def ref(resource_type: str, rid: str, display: str | None = None) -> dict[str, Any]:
    result = {"reference": full_url(rid), "type": resource_type}
    if display:
        result["display"] = display
    return result


def ref_to(resource: dict[str, Any]) -> dict[str, Any]:
    return ref(resource["resourceType"], resource["id"])


def instant(moment: datetime) -> str:
    """A FHIR instant (UTC, with the zone): ``2026-03-01T09:30:00.250000Z``."""
    if moment.tzinfo is None:
        raise ValueError("FHIR times need a time zone")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fhir_date(value: str | date | datetime | None) -> str | None:
    """A FHIR date (YYYY-MM-DD) from an ISO date string or a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def moment(value: Any) -> datetime:
    """A datetime from the fold's state (datetimes already, or ISO text from a snapshot)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class Entry:
    """A resource for the bundle and the events that made or changed it (its Provenance
    targets are read back from these)."""

    __slots__ = ("events", "resource")

    def __init__(self, resource: dict[str, Any], events: list[str]) -> None:
        self.resource = resource
        self.events = list(dict.fromkeys(events))  # in order, without repeats

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource["resourceType"], self.resource["id"])
