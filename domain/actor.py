"""Who does something in CareLog: the actor on every event and command."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The staff roles of DESIGN.md; each sees and does a different slice of the record."""

    PSYCHIATRIST = "psychiatrist"
    THERAPIST = "therapist"
    PHARMACIST = "pharmacist"
    AUDITOR = "auditor"
    ADMIN = "admin"


CLINICAL_ROLES = frozenset({Role.PSYCHIATRIST, Role.THERAPIST, Role.PHARMACIST})


@dataclass(frozen=True)
class Actor:
    """A staff member acting on a record; ``prescriber`` is a pharmacist's collaborative
    practice privilege (psychiatrists always prescribe)."""

    id: str
    role: Role
    name: str = ""
    prescriber: bool = False

    @property
    def may_prescribe(self) -> bool:
        return self.role is Role.PSYCHIATRIST or (self.role is Role.PHARMACIST and self.prescriber)

    @property
    def is_clinician(self) -> bool:
        return self.role in CLINICAL_ROLES


SYSTEM = Actor(id="00000000-0000-0000-0000-000000000000", role=Role.ADMIN, name="CareLog")
"""An actor for events CareLog itself raises (alerts carry the writer)."""

SYSTEM_ACTOR_ID = "carelog"
SYSTEM_ROLE = "system"
"""The actor (id, role) on events CareLog records by itself, with no clinician deciding:
an alert closed because its condition no longer holds, or superseded by one with the
current figures. Not a staff role: no token is ever issued for it."""
