"""What every command mixin of ``PatientRecord`` relies on: the record's state, the hooks
that check access and record an event (``domain/record_access.py``), the event classes,
and the date checks the commands share.

One base for all the area mixins (care team, assessments, medication, alerts, care
entries, corrections, conditions, pharmacogenomics), so each states its needs once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from domain.command_context import EARLIEST_CLINICAL_YEAR, CommandContext, effective_time
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.permissions import WHAT, WRITE_ROLES

if TYPE_CHECKING:
    from domain.patient_record import PatientRecord
    from domain.plan import PlanState
    from domain.plan_entities import Order


class RecordCommandsBase:
    """The part of ``PatientRecord`` its command mixins use."""

    if TYPE_CHECKING:
        plan: PlanState

        def _trigger(
            self,
            event_class: type[PatientRecord.Event],
            ctx: CommandContext,
            effective_at: datetime | None = None,
            **fields: object,
        ) -> str: ...
        def _require_access(self, ctx: CommandContext) -> None: ...
        def _require_prescriber(self, ctx: CommandContext) -> None: ...
        def active_order(self, order_id: str) -> Order: ...
        def is_member(self, clinician_id: str) -> bool: ...
        def trigger_event(self, event_class: type[object], **kwargs: object) -> None: ...

        CareTeamMemberAssigned: ClassVar[type[PatientRecord.CareTeamMemberAssigned]]
        CareTeamMemberRemoved: ClassVar[type[PatientRecord.CareTeamMemberRemoved]]
        EmergencyAccessGranted: ClassVar[type[PatientRecord.EmergencyAccessGranted]]
        ConsentRecorded: ClassVar[type[PatientRecord.ConsentRecorded]]
        AssessmentRecorded: ClassVar[type[PatientRecord.AssessmentRecorded]]
        GoalSet: ClassVar[type[PatientRecord.GoalSet]]
        GoalStatusChanged: ClassVar[type[PatientRecord.GoalStatusChanged]]
        MedicationPrescribed: ClassVar[type[PatientRecord.MedicationPrescribed]]
        DoseChanged: ClassVar[type[PatientRecord.DoseChanged]]
        MedicationDiscontinued: ClassVar[type[PatientRecord.MedicationDiscontinued]]
        SideEffectReported: ClassVar[type[PatientRecord.SideEffectReported]]
        AdherenceReported: ClassVar[type[PatientRecord.AdherenceReported]]
        SafetyAlertRaised: ClassVar[type[PatientRecord.SafetyAlertRaised]]
        SafetyAlertResolved: ClassVar[type[PatientRecord.SafetyAlertResolved]]
        NoteAdded: ClassVar[type[PatientRecord.NoteAdded]]
        EducationProvided: ClassVar[type[PatientRecord.EducationProvided]]
        FollowUpScheduled: ClassVar[type[PatientRecord.FollowUpScheduled]]
        FollowUpCompleted: ClassVar[type[PatientRecord.FollowUpCompleted]]
        PlanReviewed: ClassVar[type[PatientRecord.PlanReviewed]]
        LabResultRecorded: ClassVar[type[PatientRecord.LabResultRecorded]]
        ClinicalFactRecorded: ClassVar[type[PatientRecord.ClinicalFactRecorded]]
        EntryCorrected: ClassVar[type[PatientRecord.EntryCorrected]]
        ConditionRecorded: ClassVar[type[PatientRecord.ConditionRecorded]]
        ConditionResolved: ClassVar[type[PatientRecord.ConditionResolved]]
        SexAtBirthRecorded: ClassVar[type[PatientRecord.SexAtBirthRecorded]]
        PregnancyStatusRecorded: ClassVar[type[PatientRecord.PregnancyStatusRecorded]]
        PharmacogenomicResultRecorded: ClassVar[type[PatientRecord.PharmacogenomicResultRecorded]]

    def _allowed(self, ctx: CommandContext, what: str) -> None:
        """Care-team access first, then the role table of DESIGN.md."""
        self._require_access(ctx)
        if ctx.actor.role not in WRITE_ROLES[what]:
            raise NotPermittedError(f"A {ctx.actor.role} may not {WHAT[what]}.")

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
