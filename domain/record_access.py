"""Who may write a patient's record, and how a decided command becomes an event: the
access checks every command runs first, and the one place that stamps an event with its
actor, clinical time and correlation id.

A mixin of ``PatientRecord``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from domain.actor import CLINICAL_ROLES
from domain.command_context import CommandContext, effective_time, new_id
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.record_checks import RecordCommandsBase

if TYPE_CHECKING:
    from domain import patient_events as events
    from domain.plan_entities import Order


class RecordAccess(RecordCommandsBase):
    """Access to the record, and the recording of an event."""

    if TYPE_CHECKING:
        id: UUID

    @property
    def patient_id(self) -> str:
        return str(self.id)

    def is_member(self, clinician_id: str) -> bool:
        member = self.plan.care_team.get(clinician_id)
        return bool(member and member.active)

    def has_emergency_access(self, clinician_id: str, now: datetime) -> bool:
        grant = self.plan.emergency_access.get(clinician_id)
        return bool(grant and grant.expires_at > now)

    def may_access(self, clinician_id: str, now: datetime) -> bool:
        """On the care team now, or holding unexpired emergency access."""
        return self.is_member(clinician_id) or self.has_emergency_access(clinician_id, now)

    def active_order(self, order_id: str) -> Order:
        order = self.plan.orders.get(order_id)
        if order is None:
            raise NotFoundError(
                f"There is no medication order {order_id} for this patient.", "order_id"
            )
        if order.status != "active":
            raise InvalidInputError(
                f"{order.drug['name']} (order {order_id}) was discontinued: "
                "prescribe it again instead of changing it.",
                "order_id",
            )
        return order

    def _effective(self, ctx: CommandContext, effective_at: datetime | None) -> datetime:
        when = effective_time(ctx, effective_at)
        born = self.plan.patient.birth_date
        if isinstance(born, str) and when.date().isoformat() < born:
            raise InvalidInputError(
                "effective_at is before the patient's birth date.", "effective_at"
            )
        return when

    def _require_access(self, ctx: CommandContext) -> None:
        actor = ctx.actor
        if actor.role not in CLINICAL_ROLES:
            raise NotPermittedError(f"A {actor.role} may not write to a patient's record.")
        member = self.plan.care_team.get(actor.id)
        if (
            member is not None
            and not member.active
            and not self.has_emergency_access(actor.id, ctx.now)
        ):
            raise NotPermittedError(
                "You were removed from this patient's care team; your entry was not recorded."
            )
        if not self.may_access(actor.id, ctx.now):
            raise NotPermittedError("You are not on this patient's care team.")

    def _require_prescriber(self, ctx: CommandContext) -> None:
        self._require_access(ctx)
        if not ctx.actor.may_prescribe:
            raise NotPermittedError(
                "Only a psychiatrist, or a pharmacist with the prescriber privilege, "
                "may prescribe or change medication."
            )

    def _trigger(
        self,
        event_class: type[events.Event],
        ctx: CommandContext,
        effective_at: datetime | None = None,
        **fields: object,
    ) -> str:
        event_id = new_id()
        self.trigger_event(
            event_class,
            event_id=event_id,
            actor_id=ctx.actor.id,
            actor_role=str(ctx.actor.role),
            effective_at=self._effective(ctx, effective_at),
            correlation_id=ctx.correlation_id,
            timestamp=ctx.now,
            **fields,
        )
        return event_id
