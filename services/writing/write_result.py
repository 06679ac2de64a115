"""What a write returns: the API's write fields (the event, the record's version, the log
positions) plus the command's own ids, the alerts the safety rules raised and any warning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class WriteResult:
    """What a write returns: the API's write fields plus the command's own ids."""

    event_id: str
    patient_id: str
    version: int
    position: int
    last_position: int
    ids: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but worth saying

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "patient_id": self.patient_id,
            "version": self.version,
            "position": self.position,
            "last_position": self.last_position,
            **self.ids,
            "alerts": self.alerts,
            **({"warnings": self.warnings} if self.warnings else {}),
        }
