"""The ``PatientRecord`` aggregate: one append-only log per patient, and its events.

Command methods decide (invariants, permissions, input checks) and raise a domain error
before anything is recorded; the events only change state, through ``PlanState.apply``,
so an invariant tightened later never stops an old log from replaying. Every event
carries its actor, its clinical ``effective_at`` and the request's correlation id;
``timestamp`` (set by CareLog when the event is recorded) is the recorded time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actor import CLINICAL_ROLES
from domain.command_context import (
    CommandContext,
    bounded_text,
    checked_command,
    choice,
    effective_time,
    new_id,
    parse_birth_date,
    require_text,
    text_list,
)
from domain.condition_commands import ConditionCommands
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.patient_commands import ClinicalCommands
from domain.pharmacogenomic_commands import PharmacogenomicCommands
from domain.plan import PlanState
from domain.plan_entities import Order
from domain.problem_list import SEXES_AT_BIRTH


class PatientRecord(
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

    class PatientRegistered(Aggregate.Created):
        """A patient entered CareLog: external id (MRN), name, birth date, allergies."""

        TOPIC = "carelog.PatientRegistered"
        event_id: str
        actor_id: str
        actor_role: str
        effective_at: datetime
        correlation_id: str
        external_id: str
        name: str
        birth_date: str
        allergies: list[str]
        # Added later, with a default so that older logs replay: whether allergies were
        # asked at all (True: ``allergies`` is the answer, [] meaning no known allergies;
        # None: not recorded, as every registration before this field).
        allergies_recorded: bool | None = None

        def apply(self, aggregate: PatientRecord) -> None:
            aggregate.plan = PlanState()
            aggregate.plan.apply(self)

    class Event(Aggregate.Event):
        """Base of every later event: the metadata that every clinical fact carries."""

        TOPIC = "carelog.PatientRecord.Event"
        event_id: str
        actor_id: str
        actor_role: str
        effective_at: datetime
        correlation_id: str

        def apply(self, aggregate: PatientRecord) -> None:
            aggregate.plan.apply(self)

    class CareTeamMemberAssigned(Event):
        """A clinician joined the care team and may now see and write the record."""

        TOPIC = "carelog.CareTeamMemberAssigned"
        clinician_id: str
        clinician_name: str
        role: str

    class CareTeamMemberRemoved(Event):
        """A clinician left the care team; their later writes are refused."""

        TOPIC = "carelog.CareTeamMemberRemoved"
        clinician_id: str
        reason: str

    class EmergencyAccessGranted(Event):
        """Break the glass: time-limited access with a stated reason, flagged for review."""

        TOPIC = "carelog.EmergencyAccessGranted"
        reason: str
        expires_at: datetime

    class ConsentRecorded(Event):
        """The patient granted, refused or withdrew consent for a scope of care."""

        TOPIC = "carelog.ConsentRecorded"
        consent_id: str
        scope: str
        decision: str
        note: str

    class AssessmentRecorded(Event):
        """A scored (PHQ-9, GAD-7) or clinical assessment, with diagnoses."""

        TOPIC = "carelog.AssessmentRecorded"
        assessment_id: str
        instrument: str
        item_scores: list[int]
        total: int | None
        severity: str | None
        diagnoses: list[str]
        summary: str

    class GoalSet(Event):
        """A treatment goal with a target and a due date."""

        TOPIC = "carelog.GoalSet"
        goal_id: str
        description: str
        target: str
        due_date: str | None

    class GoalStatusChanged(Event):
        """A goal was met, abandoned or revised."""

        TOPIC = "carelog.GoalStatusChanged"
        goal_id: str
        status: str
        note: str

    class MedicationPrescribed(Event):
        """A new medication order: drug, dose, frequency, route, indication."""

        TOPIC = "carelog.MedicationPrescribed"
        order_id: str
        drug: dict[str, Any]
        dose: dict[str, Any]
        frequency: str
        route: str
        indication: str
        instructions: str
        # Added later (default None, so older logs replay): the order continues therapy
        # established elsewhere or earlier, {"since": "YYYY-MM-DD", "source": text}.
        continuing: dict[str, Any] | None = None

    class DoseChanged(Event):
        """The dose or frequency of an active order changed (the old dose is in the log)."""

        TOPIC = "carelog.DoseChanged"
        order_id: str
        dose: dict[str, Any]
        frequency: str
        reason: str

    class MedicationDiscontinued(Event):
        """An active order was stopped, with the taper schedule when one was given."""

        TOPIC = "carelog.MedicationDiscontinued"
        order_id: str
        reason: str
        taper: str | None

    class SideEffectReported(Event):
        """A side effect seen or reported, optionally tied to an order."""

        TOPIC = "carelog.SideEffectReported"
        side_effect_id: str
        order_id: str | None
        effect: str
        severity: str
        onset: str | None
        action_taken: str

    class AdherenceReported(Event):
        """Doses taken and missed for an order over a period."""

        TOPIC = "carelog.AdherenceReported"
        adherence_id: str
        order_id: str
        doses_taken: int
        doses_missed: int
        period_start: str
        period_end: str

    class SafetyAlertRaised(Event):
        """A rule of the safety pack fired on the plan after a write."""

        TOPIC = "carelog.SafetyAlertRaised"
        alert_id: str
        key: str
        rule_id: str
        rule_pack_version: str
        kind: str
        severity: str
        message: str
        action: str
        source: str
        order_ids: list[str]
        due_at: datetime | None
        test: str | None
        override_reason: str | None

    class SafetyAlertResolved(Event):
        """An alert was acknowledged, overridden with a reason, or the plan was changed."""

        TOPIC = "carelog.SafetyAlertResolved"
        alert_id: str
        resolution: str
        reason: str
        # Added later, with defaults so that older logs replay: the structured action
        # (a suicide-risk alert's risk assessment and its result), and the alert that
        # superseded this one when CareLog re-raised it with current figures.
        action: str | None = None
        result: str | None = None
        superseded_by: str | None = None

    class NoteAdded(Event):
        """A progress note (care team) or psychotherapy note (its author alone)."""

        TOPIC = "carelog.NoteAdded"
        note_id: str
        kind: str
        modality: str
        text: str

    class EducationProvided(Event):
        """The patient was taught about a topic or a medication."""

        TOPIC = "carelog.EducationProvided"
        education_id: str
        topic: str
        order_id: str | None
        materials: str

    class FollowUpScheduled(Event):
        """A check-in is due by a date, for a purpose."""

        TOPIC = "carelog.FollowUpScheduled"
        follow_up_id: str
        due_at: datetime
        purpose: str

    class FollowUpCompleted(Event):
        """A scheduled check-in took place, with its outcome."""

        TOPIC = "carelog.FollowUpCompleted"
        follow_up_id: str
        outcome: str

    class PlanReviewed(Event):
        """A review of the plan, e.g. a pharmacist's medication review."""

        TOPIC = "carelog.PlanReviewed"
        review_id: str
        outcome: str
        summary: str

    class LabResultRecorded(Event):
        """A lab value or measurement (lithium level, ANC, weight ...) for monitoring."""

        TOPIC = "carelog.LabResultRecorded"
        lab_id: str
        test: str
        value: float | None
        unit: str

    class ClinicalFactRecorded(Event):
        """A fact the safety rules read: smoking status, weight, metaboliser status ..."""

        TOPIC = "carelog.ClinicalFactRecorded"
        fact: str
        value: str

    class EntryCorrected(Event):
        """An earlier entry was wrong: the corrected fields and why. Nothing is edited."""

        TOPIC = "carelog.EntryCorrected"
        corrected_event_id: str
        fields: dict[str, Any]
        reason: str

    class ConditionRecorded(Event):
        """A condition entered the problem list: an ICD-10-CM code, as the clinician
        worded it, with its onset and how certain it is. The safety rules read it."""

        TOPIC = "carelog.ConditionRecorded"
        condition_id: str
        code: str
        display: str
        onset_date: str | None
        verification_status: str

    class ConditionResolved(Event):
        """A condition left the problem list (resolved, in remission, entered in error)."""

        TOPIC = "carelog.ConditionResolved"
        condition_id: str
        resolved_date: str
        reason: str

    class SexAtBirthRecorded(Event):
        """The patient's sex assigned at birth, which some label rules read."""

        TOPIC = "carelog.SexAtBirthRecorded"
        sex_at_birth: str

    class PregnancyStatusRecorded(Event):
        """Pregnant, not pregnant, lactating or postpartum, as of a date."""

        TOPIC = "carelog.PregnancyStatusRecorded"
        status: str
        as_of: str
        expected_delivery_date: str | None

    class PharmacogenomicResultRecorded(Event):
        """A pharmacogenomic result as the lab reported it: the gene, the diplotype and/or
        the phenotype as written (either may be None), the lab and the report date.
        CareLog's reading of it (CPIC tables, ``domain/safety/genotypes.py``) is worked
        out when read, never stored."""

        TOPIC = "carelog.PharmacogenomicResultRecorded"
        result_id: str
        gene: str
        diplotype: str | None
        phenotype: str | None
        lab: str
        report_date: str

    def __init__(self) -> None:
        """State starts empty; ``PatientRegistered.apply`` fills it."""
        self.plan = PlanState()

    # -- reading ---------------------------------------------------------------------------
    @property
    def patient_id(self) -> str:
        return str(self.id)

    def is_member(self, clinician_id: str) -> bool:
        member = self.plan.care_team.get(clinician_id)
        return bool(member and member["active"])

    def has_emergency_access(self, clinician_id: str, now: datetime) -> bool:
        grant = self.plan.emergency_access.get(clinician_id)
        return bool(grant and grant["expires_at"] > now)

    def may_access(self, clinician_id: str, now: datetime) -> bool:
        """On the care team now, or holding unexpired emergency access."""
        return self.is_member(clinician_id) or self.has_emergency_access(clinician_id, now)

    def active_order(self, order_id: str) -> Order:
        order = self.plan.orders.get(order_id)
        if order is None:
            raise NotFoundError(
                f"There is no medication order {order_id} for this patient.", "order_id"
            )
        if order["status"] != "active":
            raise InvalidInputError(
                f"{order['drug']['name']} (order {order_id}) was discontinued: "
                "prescribe it again instead of changing it.",
                "order_id",
            )
        return order

    # -- shared checks ---------------------------------------------------------------------
    def _effective(self, ctx: CommandContext, effective_at: Any) -> datetime:
        when = effective_time(ctx, effective_at)
        born = (getattr(self.plan, "patient", None) or {}).get("birth_date")
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
            and not member["active"]
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
        event_class: type[PatientRecord.Event],
        ctx: CommandContext,
        effective_at: Any = None,
        **fields: Any,
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

    def last_event_id(self) -> str:
        return str(self.pending_events[-1].event_id)  # type: ignore[attr-defined]

    # -- registration ----------------------------------------------------------------------
    @classmethod
    @checked_command
    def register(
        cls,
        ctx: CommandContext,
        *,
        patient_id: UUID,
        external_id: Any,
        name: Any,
        birth_date: Any,
        allergies: Any = (),
        effective_at: Any = None,
        sex_at_birth: Any = None,
    ) -> PatientRecord:
        """Register a patient; the registering clinician joins the care team.

        A late registration (``effective_at`` earlier than now) puts the patient and the
        registering clinician on the record from that time, for the in-effect clock."""
        if ctx.actor.role not in CLINICAL_ROLES:
            raise NotPermittedError(f"A {ctx.actor.role} may not register patients.")
        external_id = require_text(external_id, "external_id", "An external id (MRN)")
        name = bounded_text(require_text(name, "name", "The patient's name"), "name")
        born = parse_birth_date(birth_date, ctx.now)
        allergies_recorded = allergies is not None and allergies != ()
        allergies = text_list(allergies, "allergies")
        if sex_at_birth is not None:
            sex_at_birth = choice(sex_at_birth, "sex_at_birth", SEXES_AT_BIRTH)
        when = effective_time(ctx, effective_at)
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
