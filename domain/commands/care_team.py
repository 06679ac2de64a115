"""Commands on who cares for the patient: registration, the care team, emergency access,
consent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.commands.late_entry import LateEntry


@dataclass(frozen=True)
class RegisterPatient(LateEntry):
    """A patient enters CareLog; the registering clinician joins the care team."""

    external_id: str
    name: str
    birth_date: date
    allergies: Sequence[str] | None = None  # None: not asked; (): no known allergies
    sex_at_birth: str | None = None


@dataclass(frozen=True)
class AssignCareTeamMember(LateEntry):
    """A care-team member adds a clinician of CareLog's staff, in their role."""

    clinician_id: str
    role: str


@dataclass(frozen=True)
class RemoveCareTeamMember(LateEntry):
    """A clinician leaves the care team, with the reason."""

    clinician_id: str
    reason: str


@dataclass(frozen=True)
class GrantEmergencyAccess:
    """Break the glass, with a stated reason."""

    reason: str


@dataclass(frozen=True)
class RecordConsent(LateEntry):
    """The patient's decision about a scope of care."""

    scope: str
    decision: str
    note: str | None = None
