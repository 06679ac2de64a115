"""The ``PatientRecord`` aggregate: one append-only log per patient; its events are defined
in ``domain/patient_events.py`` and are attributes of the aggregate.

Command methods decide (invariants, permissions, input checks) and raise a domain error
before anything is recorded; the events only change state, through ``PlanState.apply``,
so an invariant tightened later never stops an old log from replaying. Every event
carries its actor, its clinical ``effective_at`` and the request's correlation id;
``timestamp`` (set by CareLog when the event is recorded) is the recorded time.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import patient_events as events
from domain.actor import CLINICAL_ROLES
from domain.command_context import (
    CommandContext,
    bounded_text,
    choice,
    effective_time,
    new_id,
    parse_birth_date,
    require_text,
    text_list,
)
from domain.commands import RegisterPatient
from domain.condition_commands import ConditionCommands
from domain.errors import InvalidInputError, NotPermittedError
from domain.patient_commands import ClinicalCommands
from domain.pharmacogenomic_commands import PharmacogenomicCommands
from domain.plan import PlanState
from domain.problem_list import SEXES_AT_BIRTH
from domain.record_access import RecordAccess


class PatientRecord(
    RecordAccess,
    ClinicalCommands,
    ConditionCommands,
    PharmacogenomicCommands,
    Aggregate,
    created_event_name="PatientRegistered",
):
    """One patient's care, as an append-only log of clinical facts."""

    TOPIC = "carelog.PatientRecord"

    class Created(Aggregate.Created):
        """Unused: the library defines it; registration is ``PatientRegistered``."""

        TOPIC = "carelog.PatientRecord.Created"

    # The events (``domain/patient_events.py``), as attributes of the aggregate: where the
    # library looks for them (it makes ``PatientRegistered`` a subclass of ``Event`` here),
    # and where the fold and every reader find them.
    PatientRegistered = events.PatientRegistered
    Event = events.Event
    CareTeamMemberAssigned = events.CareTeamMemberAssigned
    CareTeamMemberRemoved = events.CareTeamMemberRemoved
    EmergencyAccessGranted = events.EmergencyAccessGranted
    ConsentRecorded = events.ConsentRecorded
    AssessmentRecorded = events.AssessmentRecorded
    GoalSet = events.GoalSet
    GoalStatusChanged = events.GoalStatusChanged
    MedicationPrescribed = events.MedicationPrescribed
    DoseChanged = events.DoseChanged
    MedicationDiscontinued = events.MedicationDiscontinued
    SideEffectReported = events.SideEffectReported
    AdherenceReported = events.AdherenceReported
    SafetyAlertRaised = events.SafetyAlertRaised
    SafetyAlertResolved = events.SafetyAlertResolved
    NoteAdded = events.NoteAdded
    EducationProvided = events.EducationProvided
    FollowUpScheduled = events.FollowUpScheduled
    FollowUpCompleted = events.FollowUpCompleted
    PlanReviewed = events.PlanReviewed
    LabResultRecorded = events.LabResultRecorded
    ClinicalFactRecorded = events.ClinicalFactRecorded
    EntryCorrected = events.EntryCorrected
    ConditionRecorded = events.ConditionRecorded
    ConditionResolved = events.ConditionResolved
    SexAtBirthRecorded = events.SexAtBirthRecorded
    PregnancyStatusRecorded = events.PregnancyStatusRecorded
    PharmacogenomicResultRecorded = events.PharmacogenomicResultRecorded

    def __init__(self) -> None:
        """State starts empty; ``PatientRegistered.apply`` fills it."""
        self.plan = PlanState()

    def last_event_id(self) -> str:
        return str(self.pending_events[-1].event_id)  # type: ignore[attr-defined]

    # -- registration ----------------------------------------------------------------------
    @classmethod
    def register(
        cls, ctx: CommandContext, cmd: RegisterPatient, *, patient_id: UUID
    ) -> PatientRecord:
        """Register a patient; the registering clinician joins the care team.

        A late registration (``effective_at`` earlier than now) puts the patient and the
        registering clinician on the record from that time, for the in-effect clock."""
        if ctx.actor.role not in CLINICAL_ROLES:
            raise NotPermittedError(f"A {ctx.actor.role} may not register patients.")
        external_id = require_text(cmd.external_id, "external_id", "An external id (MRN)")
        name = bounded_text(require_text(cmd.name, "name", "The patient's name"), "name")
        born = parse_birth_date(cmd.birth_date, ctx.now)
        allergies_recorded = cmd.allergies is not None
        allergies = text_list(cmd.allergies, "allergies")
        sex_at_birth = cmd.sex_at_birth
        if sex_at_birth is not None:
            sex_at_birth = choice(sex_at_birth, "sex_at_birth", SEXES_AT_BIRTH)
        when = effective_time(ctx, cmd.effective_at)
        if when.date() < born:
            raise InvalidInputError(
                "effective_at is before the patient's birth date.", "effective_at"
            )
        record = cls._create(
            cls.PatientRegistered,
            id=patient_id,
            event_id=new_id(),
            actor_id=ctx.actor.id,
            actor_role=str(ctx.actor.role),
            effective_at=when,
            correlation_id=ctx.correlation_id,
            timestamp=ctx.now,
            external_id=external_id,
            name=name,
            birth_date=born.isoformat(),
            allergies=allergies,
            allergies_recorded=allergies_recorded or None,
        )
        record._trigger(
            cls.CareTeamMemberAssigned,
            ctx,
            when,
            clinician_id=ctx.actor.id,
            clinician_name=ctx.actor.name,
            role=str(ctx.actor.role),
        )
        if sex_at_birth is not None:
            record._trigger(cls.SexAtBirthRecorded, ctx, when, sex_at_birth=sex_at_birth)
        return record
