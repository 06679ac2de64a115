"""Authorization: who may read or write what, decided in one place the web layer calls.

Rules (DESIGN.md): clinicians see a patient only while on the care team (or under
unexpired emergency access, which is flagged for review); auditors read histories and the
audit trail, never write, never see psychotherapy note text; admins manage staff and read
no clinical data. Every decision about patient data is recorded in the access log,
denials included.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

from domain.actor import CLINICAL_ROLES, Actor, Role
from domain.errors import NotFoundError, NotPermittedError
from domain.patient_record import PatientRecord
from domain.permissions import WHAT, WRITE_ROLES
from domain.plan_entities import EmergencyAccess
from domain.plan_records import Note

AUDITOR_READS = frozenset({"plan", "history", "audit", "audit_all", "patients", "fhir", "notes"})
CLINICIAN_READS = frozenset(
    {"plan", "history", "audit", "patients", "dashboard", "feed", "notes", "fhir", "export"}
)
AUDITOR_READS |= {"trials"}  # treatment trials: read like the plan they come from
CLINICIAN_READS |= {"trials", "outcomes"}  # outcomes: over the caller's own patients


@dataclass(frozen=True)
class RequestInfo:
    """Where a request came from, for the access log."""

    request_id: str
    source: str


T = TypeVar("T")
ReadRecord = Callable[..., Any]  # CareLogApplication.read_record


@dataclass
class PatientAccess:
    """A granted read of one patient's data.

    ``read(fn)`` runs ``fn`` on the patient's current record under its lock (what ``fn``
    returns must be built or copied from it); ``record`` is a private copy, for callers
    that keep the whole record."""

    patient_id: str
    reader: ReadRecord = field(repr=False)
    flagged: bool  # under emergency access: flagged for review
    emergency: dict[str, Any] | None = None  # the grant's reason and expiry, when flagged

    def read(self, fn: Callable[[PatientRecord], T]) -> T:
        # The access check caught the record up a moment ago: no second trip to the log.
        result: T = self.reader(self.patient_id, fn, catch_up=False)
        return result

    @cached_property
    def record(self) -> PatientRecord:
        return self.read(copy.deepcopy)


Recorder = Callable[..., Any]


class Policy:
    """The role table and care-team rules, with every decision recorded."""

    def __init__(
        self,
        read_record: ReadRecord,
        record_access: Recorder,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.read_record = read_record
        self.record_access = record_access
        self.clock = clock or (lambda: datetime.now(UTC))

    def _deny(
        self,
        actor: Actor,
        patient_id: str | None,
        what: str,
        info: RequestInfo,
        message: str,
        grant: dict[str, Any] | None = None,
    ) -> NotPermittedError:
        self._record(
            actor,
            patient_id,
            what,
            info,
            allowed=False,
            flagged=grant is not None,
            grant=grant,
            reason=message,
        )
        return NotPermittedError(message)

    def _record(
        self,
        actor: Actor,
        patient_id: str | None,
        what: str,
        info: RequestInfo,
        *,
        allowed: bool,
        flagged: bool,
        grant: dict[str, Any] | None,
        reason: str | None = None,
    ) -> None:
        """One access-log entry for ``actor``'s request, naming the emergency grant used."""
        self.record_access(
            actor_id=actor.id,
            actor_role=str(actor.role),
            patient_id=patient_id,
            what=what,
            request_id=info.request_id,
            source=info.source,
            allowed=allowed,
            reason=reason,
            flagged=flagged,
            details={"emergency_access": grant} if grant is not None else None,
        )

    def may_read_kind(self, actor: Actor, what: str) -> bool:
        if what == "metrics":  # operational figures, no patient data
            return actor.role in {Role.ADMIN, Role.AUDITOR}
        if actor.role is Role.AUDITOR:
            return what in AUDITOR_READS
        if actor.role in CLINICAL_ROLES:
            return what in CLINICIAN_READS
        return False

    def require_read_kind(
        self, actor: Actor, what: str, info: RequestInfo, patient_id: str | None = None
    ) -> None:
        """The role may read this kind of data at all (no patient named yet)."""
        if not self.may_read_kind(actor, what):
            raise self._deny(
                actor,
                patient_id,
                what,
                info,
                f"A {actor.role} may not read {what.replace('_', ' ')}.",
            )

    def read_patient(
        self, actor: Actor, patient_id: str, what: str, info: RequestInfo
    ) -> PatientAccess:
        """Check and record one read of a patient's data."""
        access = self.check_read(actor, patient_id, what, info)
        self.record_read(actor, patient_id, what, info, access)
        return access

    def check_read(
        self, actor: Actor, patient_id: str, what: str, info: RequestInfo
    ) -> PatientAccess:
        """Check one read of a patient's data; a denial is recorded here, a granted read
        only by ``record_read`` once the data is actually sent (a read that then ends in
        404 or 503 showed nothing)."""
        self.require_read_kind(actor, what, info, patient_id)
        # NotFoundError for an unknown patient.
        member, emergency, grant = self._standing(actor, patient_id)
        flagged = False
        if actor.role in CLINICAL_ROLES and not member:
            if not emergency:
                raise self._deny(
                    actor, patient_id, what, info, "You are not on this patient's care team."
                )
            flagged = True
        return PatientAccess(patient_id, self.read_record, flagged, grant if flagged else None)

    def record_read(
        self, actor: Actor, patient_id: str, what: str, info: RequestInfo, access: PatientAccess
    ) -> None:
        """Record a read ``check_read`` granted, as it is sent."""
        grant = access.emergency or None
        self._record(
            actor, patient_id, what, info, allowed=True, flagged=access.flagged, grant=grant
        )

    def require_write(
        self, actor: Actor, what: str, info: RequestInfo, patient_id: str | None = None
    ) -> None:
        """The role table, before anything is loaded (the aggregate checks it again)."""
        allowed = WRITE_ROLES.get(what, frozenset())
        if actor.role not in allowed:
            raise self._deny(
                actor,
                patient_id,
                f"write:{what}",
                info,
                f"A {actor.role} may not {WHAT.get(what, what)}.",
            )
        if what == "medication" and not actor.may_prescribe:
            raise self._deny(
                actor,
                patient_id,
                f"write:{what}",
                info,
                "Only a psychiatrist, or a pharmacist with the prescriber "
                "privilege, may prescribe or change medication.",
            )

    def record_denied_write(
        self, actor: Actor, patient_id: str | None, what: str, info: RequestInfo, message: str
    ) -> None:
        """A write the domain refused for permission reasons is an access attempt too;
        one tried under emergency access (a care-team change, say) is flagged with the
        grant, like every other access under it."""
        grant = self._emergency_grant(actor, patient_id) if patient_id else None
        self._deny(actor, patient_id, f"write:{what}", info, message, grant)

    def _emergency_grant(self, actor: Actor, patient_id: str) -> dict[str, Any] | None:
        """The actor's active emergency grant on the patient when not on the team."""
        try:
            member, emergency, grant = self._standing(actor, patient_id)
        except NotFoundError:
            return None
        flagged: dict[str, Any] | None = grant
        return flagged if actor.role in CLINICAL_ROLES and not member and emergency else None

    def _standing(self, actor: Actor, patient_id: str) -> tuple[bool, bool, dict[str, Any] | None]:
        """Whether the actor is on the patient's care team, holds emergency access to the
        record now, and the audit's view of that grant (NotFoundError for no patient)."""
        now = self.clock()
        standing: tuple[bool, bool, dict[str, Any] | None] = self.read_record(
            patient_id,
            lambda r: (
                r.is_member(actor.id),
                r.has_emergency_access(actor.id, now),
                emergency_grant(r.plan.emergency_access.get(actor.id)),
            ),
        )
        return standing

    def may_read_note_text(self, actor: Actor, note: Note) -> bool:
        """Psychotherapy notes: the author alone. Progress notes: the team and auditors."""
        if note.kind == "psychotherapy":
            return note.author_id == actor.id
        return self.may_read_progress_notes(actor)

    def may_read_progress_notes(self, actor: Actor) -> bool:
        """Progress notes' text: the team and auditors (psychotherapy notes: see
        ``may_read_note_text``)."""
        return actor.role in CLINICAL_ROLES or actor.role is Role.AUDITOR


def emergency_grant(grant: EmergencyAccess | None) -> dict[str, Any] | None:
    """What the audit shows of an emergency grant: its stated reason and its expiry."""
    if grant is None:
        return None
    expires = grant.expires_at
    return {
        "reason": grant.reason,
        "expires_at": (
            expires.astimezone(UTC).isoformat(timespec="microseconds")
            if isinstance(expires, datetime)
            else expires
        ),
    }


def require_found(value: Any, message: str, field: str | None = None) -> Any:
    if value is None:
        raise NotFoundError(message, field)
    return value
