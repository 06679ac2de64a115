"""What every command mixin of ``PatientRecord`` relies on: the record's state, the hooks
that check access and record an event (``domain/record_access.py``), the event classes,
and the date checks the commands share.

One base for all the area mixins (care team, assessments, medication, alerts, care
entries, corrections, conditions, pharmacogenomics), so each states its needs once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar, TypeVar

from domain.command_context import (
    EARLIEST_CLINICAL_YEAR,
    CommandContext,
    effective_time,
    require_id,
)
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.permissions import WHAT, WRITE_ROLES

if TYPE_CHECKING:
    from domain import patient_events as events
    from domain.plan import PlanState
    from domain.plan_entities import Order

T = TypeVar("T")


class RecordCommandsBase:
    """The part of ``PatientRecord`` its command mixins use."""

    if TYPE_CHECKING:
        plan: PlanState

        def _trigger(
            self,
            event_class: type[events.Event],
            ctx: CommandContext,
            effective_at: datetime | None = None,
            **fields: object,
        ) -> str: ...
        def _require_access(self, ctx: CommandContext) -> None: ...
        def _require_prescriber(self, ctx: CommandContext) -> None: ...
        def active_order(self, order_id: str) -> Order: ...
        def is_member(self, clinician_id: str) -> bool: ...
        def trigger_event(self, event_class: type[object], **kwargs: object) -> None: ...

        CareTeamMemberAssigned: ClassVar[type[events.CareTeamMemberAssigned]]
        CareTeamMemberRemoved: ClassVar[type[events.CareTeamMemberRemoved]]
        EmergencyAccessGranted: ClassVar[type[events.EmergencyAccessGranted]]
        ConsentRecorded: ClassVar[type[events.ConsentRecorded]]
        AssessmentRecorded: ClassVar[type[events.AssessmentRecorded]]
        GoalSet: ClassVar[type[events.GoalSet]]
        GoalStatusChanged: ClassVar[type[events.GoalStatusChanged]]
        MedicationPrescribed: ClassVar[type[events.MedicationPrescribed]]
        DoseChanged: ClassVar[type[events.DoseChanged]]
        MedicationDiscontinued: ClassVar[type[events.MedicationDiscontinued]]
        SideEffectReported: ClassVar[type[events.SideEffectReported]]
        AdherenceReported: ClassVar[type[events.AdherenceReported]]
        SafetyAlertRaised: ClassVar[type[events.SafetyAlertRaised]]
        SafetyAlertResolved: ClassVar[type[events.SafetyAlertResolved]]
        NoteAdded: ClassVar[type[events.NoteAdded]]
        EducationProvided: ClassVar[type[events.EducationProvided]]
        FollowUpScheduled: ClassVar[type[events.FollowUpScheduled]]
        FollowUpCompleted: ClassVar[type[events.FollowUpCompleted]]
        PlanReviewed: ClassVar[type[events.PlanReviewed]]
        LabResultRecorded: ClassVar[type[events.LabResultRecorded]]
        ClinicalFactRecorded: ClassVar[type[events.ClinicalFactRecorded]]
        EntryCorrected: ClassVar[type[events.EntryCorrected]]
        ConditionRecorded: ClassVar[type[events.ConditionRecorded]]
        ConditionResolved: ClassVar[type[events.ConditionResolved]]
        SexAtBirthRecorded: ClassVar[type[events.SexAtBirthRecorded]]
        PregnancyStatusRecorded: ClassVar[type[events.PregnancyStatusRecorded]]
        PharmacogenomicResultRecorded: ClassVar[type[events.PharmacogenomicResultRecorded]]

    def _allowed(self, ctx: CommandContext, what: str) -> None:
        """Care-team access first, then the role table of DESIGN.md."""
        self._require_access(ctx)
        role_may(ctx, what)

    def _existing(
        self, entries: Mapping[str, T], raw_id: object, field_name: str, what: str
    ) -> tuple[str, T]:
        """The earlier entry (a goal, a follow-up) a command names, with its checked id."""
        entry_id = require_id(raw_id, field_name, f"A {what} id")
        entry = entries.get(entry_id)
        if entry is None:
            raise NotFoundError(f"There is no {what} {entry_id}.", field_name)
        return entry_id, entry

    def _order_to_change(self, ctx: CommandContext, order_id: str) -> Order:
        """The active order a prescriber changes or stops."""
        self._require_prescriber(ctx)
        return self.active_order(require_id(order_id, "order_id", "An order id"))

    def _order_change_time(
        self, ctx: CommandContext, order: Order, effective_at: datetime | None
    ) -> datetime | None:
        """A late change of an order (given ``effective_at``) cannot predate its start."""
        when = late_entry(ctx, effective_at)
        not_before(when, order.since, f"{order.drug['name']} was started")
        return when

    def _known_order(self, order_id: str | None, field_name: str = "order_id") -> str | None:
        """An order an entry is tied to (education, a side effect, adherence): it must exist."""
        if order_id is None:
            return None
        if not isinstance(order_id, str) or order_id not in self.plan.orders:
            raise NotFoundError(f"There is no medication order {order_id}.", field_name)
        return str(order_id)

    def _past_date(self, raw: str, field_name: str, ctx: CommandContext) -> date:
        """A calendar date, not after today and not before the patient was born."""
        return past_date(
            parse_day(raw, field_name),
            field_name,
            ctx.now.date(),
            self.plan.patient.birth_date,
        )


def role_may(ctx: CommandContext, what: str) -> None:
    """The role table of DESIGN.md: whether the actor's role may do ``what`` at all."""
    if ctx.actor.role not in WRITE_ROLES[what]:
        raise NotPermittedError(f"A {ctx.actor.role} may not {WHAT[what]}.")


def parse_day(raw: object, field_name: str) -> date:
    """A calendar date given as ISO text (a corrected value, which no schema typed)."""
    try:
        value = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidInputError("Give a date like 2026-03-01.", field_name)
    return value


def past_date(value: date, field_name: str, today: date, born: str | None) -> date:
    """A calendar date that has been (an onset, a resolution, a report): not after today,
    not before the birth date."""
    if value > today:
        raise InvalidInputError(f"{field_name} is in the future.", field_name)
    if born and value < date.fromisoformat(born):
        raise InvalidInputError(f"{field_name} is before the patient's birth date.", field_name)
    return value


def late_entry(ctx: CommandContext, effective_at: datetime | None) -> datetime | None:
    """The checked clinical time when one was given (a late entry), else None."""
    return None if effective_at is None else effective_time(ctx, effective_at)


def not_before(when: datetime | None, since: datetime, what: str) -> None:
    """A late entry cannot predate what it changes (an order, a goal, a team membership)."""
    if when is not None and when < since:
        raise InvalidInputError(
            f"effective_at is before {what} ({since.isoformat()}).", "effective_at"
        )


def clinical_day(day: date, field_name: str) -> str:
    """A clinical calendar date, not before 1900, as ISO text (as the events hold it)."""
    if day.year < EARLIEST_CLINICAL_YEAR:
        raise InvalidInputError("Before 1900-01-01: no clinical entry is that old.", field_name)
    return day.isoformat()


def iso_date(raw: object, field_name: str) -> str:
    """A clinical date given as ISO text (a corrected value), as ISO text."""
    return clinical_day(parse_day(raw, field_name), field_name)
