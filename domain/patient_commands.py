"""The clinical commands of a patient record: each checks its input and its invariants,
then records one event. Nothing is recorded when a check fails.

A mixin of ``PatientRecord``, kept apart only so each module stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from domain.actor import SYSTEM_ACTOR_ID, SYSTEM_ROLE
from domain.alert_resolution import (
    NO_LONGER_APPLIES,
    SUPERSEDED,
    reason_with_content,
    require_resolver,
    structured_action,
)
from domain.command_context import (
    EARLIEST_CLINICAL_YEAR,
    EMERGENCY_ACCESS_PERIOD,
    CommandContext,
    bounded_text,
    check_due,
    checked_command,
    choice,
    effective_time,
    finite_number,
    future_due_time,
    new_id,
    optional_text,
    parse_time,
    plausible_lab_value,
    require_id,
    require_text,
    text_list,
)
from domain.continuing import continuing_therapy
from domain.dose import Dose, parse_frequency, parse_route
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.permissions import WHAT, WRITE_ROLES
from domain.pharmacogenomic_commands import EVENT as PGX_EVENT
from domain.pharmacogenomic_commands import check_corrected, check_correction
from domain.plan import CORRECTABLE_FIELDS
from domain.safety.fact_vocabulary import fact_spec, refusal
from domain.scoring import score

if TYPE_CHECKING:
    from domain.plan import PlanState
    from domain.plan_entities import Order

CONSENT_SCOPES = ("treatment", "medication", "information sharing")
CONSENT_DECISIONS = ("granted", "refused", "withdrawn")
SEVERITIES = ("mild", "moderate", "severe")
NOTE_KINDS = ("progress", "psychotherapy")
MODALITIES = ("CBT", "DBT", "psychodynamic", "family", "supportive", "other")
RESOLUTIONS = ("acknowledged", "overridden", "changed")
GOAL_STATUSES = ("active", "met", "revised", "abandoned")
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")


class ClinicalCommands:
    """Commands that append clinical facts to a patient's log."""

    if TYPE_CHECKING:
        plan: PlanState
        id: Any

        def _trigger(
            self,
            event_class: Any,
            ctx: CommandContext,
            effective_at: Any = None,
            **fields: Any,
        ) -> str: ...
        def _require_access(self, ctx: CommandContext) -> None: ...
        def _require_prescriber(self, ctx: CommandContext) -> None: ...
        def active_order(self, order_id: str) -> Order: ...
        def is_member(self, clinician_id: str) -> bool: ...
        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

        CareTeamMemberAssigned: Any
        CareTeamMemberRemoved: Any
        EmergencyAccessGranted: Any
        ConsentRecorded: Any
        AssessmentRecorded: Any
        GoalSet: Any
        GoalStatusChanged: Any
        MedicationPrescribed: Any
        DoseChanged: Any
        MedicationDiscontinued: Any
        SideEffectReported: Any
        AdherenceReported: Any
        SafetyAlertRaised: Any
        SafetyAlertResolved: Any
        NoteAdded: Any
        EducationProvided: Any
        FollowUpScheduled: Any
        FollowUpCompleted: Any
        PlanReviewed: Any
        LabResultRecorded: Any
        ClinicalFactRecorded: Any
        EntryCorrected: Any

    def _allowed(self, ctx: CommandContext, what: str) -> None:
        """Care-team access first, then the role table of DESIGN.md."""
        self._require_access(ctx)
        if ctx.actor.role not in WRITE_ROLES[what]:
            raise NotPermittedError(f"A {ctx.actor.role} may not {WHAT[what]}.")

    def _care_team_change(self, ctx: CommandContext) -> None:
        """Break-glass opens the record, never the team: only a member changes the team, so
        emergency access cannot make itself permanent or undo a removal."""
        self._allowed(ctx, "care_team")
        if not self.is_member(ctx.actor.id):
            raise NotPermittedError(
                "Only a member of the care team may change it; emergency access does not "
                "let you add or remove members."
            )

    # -- care team and consent -------------------------------------------------------------
    @checked_command
    def assign_care_team_member(
        self,
        ctx: CommandContext,
        *,
        clinician_id: Any,
        clinician_name: Any,
        role: Any,
        effective_at: Any = None,
    ) -> str:
        """A care-team member adds a clinician, who may then see and write the record."""
        self._care_team_change(ctx)
        clinician_id = require_id(clinician_id, "clinician_id", "A clinician id")
        clinician_name = require_text(clinician_name, "clinician_name", "The clinician's name")
        role = choice(role, "role", ("psychiatrist", "therapist", "pharmacist"))
        if self.is_member(clinician_id):
            raise InvalidInputError("That clinician is on the care team already.", "clinician_id")
        return self._trigger(
            self.CareTeamMemberAssigned,
            ctx,
            effective_time(ctx, effective_at),
            clinician_id=clinician_id,
            clinician_name=clinician_name,
            role=role,
        )

    @checked_command
    def remove_care_team_member(
        self, ctx: CommandContext, *, clinician_id: Any, reason: Any, effective_at: Any = None
    ) -> str:
        """A clinician leaves the care team, with the reason."""
        self._care_team_change(ctx)
        clinician_id = require_id(clinician_id, "clinician_id", "A clinician id")
        reason = require_text(reason, "reason", "A reason for the removal")
        if not self.is_member(clinician_id):
            raise NotFoundError("That clinician is not on the care team.", "clinician_id")
        member = self.plan.care_team[clinician_id]
        if member["role"] == "psychiatrist" and not any(
            m["active"] and m["role"] == "psychiatrist" and cid != clinician_id
            for cid, m in self.plan.care_team.items()
        ):
            # A team is never left without the clinician who prescribes and answers for
            # the medication plan: the successor is assigned first (README, care team).
            raise InvalidInputError(
                f"{member['name']} is the care team's only psychiatrist: assign another "
                "psychiatrist first, so the patient is never left without a prescriber.",
                "clinician_id",
            )
        when = _late_entry(ctx, effective_at)
        _not_before(when, member["since"], f"{member['name']} joined the care team")
        return self._trigger(
            self.CareTeamMemberRemoved, ctx, when, clinician_id=clinician_id, reason=reason
        )

    @checked_command
    def grant_emergency_access(self, ctx: CommandContext, *, reason: Any) -> str:
        """Break the glass: any clinician, with a stated reason, for four hours."""
        if ctx.actor.role not in WRITE_ROLES["emergency_access"]:
            raise NotPermittedError(f"A {ctx.actor.role} may not {WHAT['emergency_access']}.")
        reason = require_text(reason, "reason", "A reason for emergency access")
        return self._trigger(
            self.EmergencyAccessGranted,
            ctx,
            reason=reason,
            expires_at=ctx.now + EMERGENCY_ACCESS_PERIOD,
        )

    @checked_command
    def record_consent(
        self,
        ctx: CommandContext,
        *,
        scope: Any,
        decision: Any,
        note: Any = None,
        effective_at: Any = None,
    ) -> str:
        """The patient's decision about a scope of care."""
        self._allowed(ctx, "consent")
        return self._trigger(
            self.ConsentRecorded,
            ctx,
            effective_at,
            consent_id=new_id(),
            scope=choice(scope, "scope", CONSENT_SCOPES),
            decision=choice(decision, "decision", CONSENT_DECISIONS),
            note=optional_text(note, "note"),
        )

    # -- assessments and goals -------------------------------------------------------------
    @checked_command
    def record_assessment(
        self,
        ctx: CommandContext,
        *,
        instrument: Any,
        item_scores: Any = None,
        diagnoses: Any = None,
        summary: Any = None,
        effective_at: Any = None,
    ) -> str:
        """A PHQ-9, GAD-7 or clinical assessment; scored here, never by the client."""
        self._allowed(ctx, "assessment")
        result = score(instrument, item_scores or [])
        codes = text_list(diagnoses, "diagnoses")
        for code in codes:
            if not ICD10.match(code):
                raise InvalidInputError(f"{code!r} is not an ICD-10 code like F32.1.", "diagnoses")
        return self._trigger(
            self.AssessmentRecorded,
            ctx,
            effective_at,
            assessment_id=new_id(),
            instrument=result.instrument,
            item_scores=list(result.item_scores),
            total=result.total,
            severity=result.severity,
            diagnoses=codes,
            summary=optional_text(summary, "summary"),
        )

    @checked_command
    def set_goal(
        self,
        ctx: CommandContext,
        *,
        description: Any,
        target: Any = None,
        due_date: Any = None,
        effective_at: Any = None,
    ) -> str:
        """A treatment goal the team works towards."""
        self._allowed(ctx, "goal")
        if due_date is not None:
            due_date = _iso_date(due_date, "due_date")
            check_due(date.fromisoformat(due_date), "due_date")
        return self._trigger(
            self.GoalSet,
            ctx,
            effective_time(ctx, effective_at),
            goal_id=new_id(),
            description=require_text(description, "description", "A goal"),
            target=optional_text(target, "target"),
            due_date=due_date,
        )

    @checked_command
    def change_goal_status(
        self,
        ctx: CommandContext,
        *,
        goal_id: Any,
        status: Any,
        note: Any = None,
        effective_at: Any = None,
    ) -> str:
        """A goal was met, revised or abandoned."""
        self._allowed(ctx, "goal")
        goal_id = require_id(goal_id, "goal_id", "A goal id")
        goal = self.plan.goals.get(goal_id)
        if goal is None:
            raise NotFoundError(f"There is no goal {goal_id}.", "goal_id")
        when = _late_entry(ctx, effective_at)
        _not_before(when, goal["effective_at"], "the goal was set")
        return self._trigger(
            self.GoalStatusChanged,
            ctx,
            when,
            goal_id=goal_id,
            status=choice(status, "status", GOAL_STATUSES),
            note=optional_text(note, "note"),
        )

    # -- medication ------------------------------------------------------------------------
    @checked_command
    def prescribe(
        self,
        ctx: CommandContext,
        *,
        order_id: Any,
        drug: Any,
        dose: Any,
        frequency: Any,
        route: Any,
        indication: Any,
        instructions: Any = None,
        effective_at: Any = None,
        continuing: Any = None,
    ) -> str:
        """A new medication order, by a prescriber on the care team; ``continuing`` states
        that it continues established therapy (since when, from where)."""
        self._require_prescriber(ctx)
        order_id = require_id(order_id, "order_id", "An order id")
        if order_id in self.plan.orders:
            raise InvalidInputError(f"There is a medication order {order_id} already.", "order_id")
        if not isinstance(drug, Mapping):
            raise InvalidInputError("The drug must be given with its name.", "drug")
        require_text(drug.get("name"), "drug", "The drug name")
        return self._trigger(
            self.MedicationPrescribed,
            ctx,
            effective_at,
            order_id=order_id,
            drug=dict(drug),
            dose=Dose.parse(dose).as_dict(),
            frequency=parse_frequency(frequency),
            route=parse_route(route),
            indication=require_text(indication, "indication", "An indication"),
            instructions=optional_text(instructions, "instructions"),
            continuing=continuing_therapy(
                continuing, effective_time(ctx, effective_at), self.plan.patient.get("birth_date")
            ),
        )

    @checked_command
    def change_dose(
        self,
        ctx: CommandContext,
        *,
        order_id: Any,
        dose: Any,
        frequency: Any = None,
        reason: Any,
        effective_at: Any = None,
    ) -> str:
        """A new dose (and optionally frequency) for an active order, with the reason."""
        self._require_prescriber(ctx)
        order = self.active_order(require_id(order_id, "order_id", "An order id"))
        new_dose = Dose.parse(dose).as_dict()
        current = order["steps"][-1]
        new_frequency = current["frequency"] if frequency is None else parse_frequency(frequency)
        reason = require_text(reason, "reason", "A reason for the dose change")
        if new_dose == current["dose"] and new_frequency == current["frequency"]:
            raise InvalidInputError("That is the current dose and frequency already.", "dose")
        when = _late_entry(ctx, effective_at)
        _not_before(when, order["since"], f"{order['drug']['name']} was started")
        return self._trigger(
            self.DoseChanged,
            ctx,
            when,
            order_id=order_id,
            dose=new_dose,
            frequency=new_frequency,
            reason=reason,
        )

    @checked_command
    def discontinue(
        self,
        ctx: CommandContext,
        *,
        order_id: Any,
        reason: Any,
        taper: Any = None,
        effective_at: Any = None,
    ) -> str:
        """Stop an active order, with the taper schedule when the drug needs one."""
        self._require_prescriber(ctx)
        order = self.active_order(require_id(order_id, "order_id", "An order id"))
        reason = require_text(reason, "reason", "A reason for stopping")
        taper_text = optional_text(taper, "taper") or None
        when = _late_entry(ctx, effective_at)
        _not_before(when, order["since"], f"{order['drug']['name']} was started")
        return self._trigger(
            self.MedicationDiscontinued,
            ctx,
            when,
            order_id=order_id,
            reason=reason,
            taper=taper_text,
        )

    def _known_order(self, order_id: Any, field_name: str = "order_id") -> str | None:
        if order_id is None:
            return None
        if not isinstance(order_id, str) or order_id not in self.plan.orders:
            raise NotFoundError(f"There is no medication order {order_id}.", field_name)
        return str(order_id)

    @checked_command
    def report_side_effect(
        self,
        ctx: CommandContext,
        *,
        effect: Any,
        severity: Any,
        order_id: Any = None,
        onset: Any = None,
        action_taken: Any = None,
        effective_at: Any = None,
    ) -> str:
        """A side effect seen or reported, with its severity."""
        self._allowed(ctx, "side_effect")
        return self._trigger(
            self.SideEffectReported,
            ctx,
            effective_at,
            side_effect_id=new_id(),
            order_id=self._known_order(order_id),
            effect=require_text(effect, "effect", "The side effect"),
            severity=choice(severity, "severity", SEVERITIES),
            onset=optional_text(onset, "onset") or None,
            action_taken=optional_text(action_taken, "action_taken"),
        )

    @checked_command
    def record_adherence(
        self,
        ctx: CommandContext,
        *,
        order_id: Any,
        doses_taken: Any,
        doses_missed: Any,
        period_start: Any,
        period_end: Any,
        effective_at: Any = None,
    ) -> str:
        """Doses taken and missed over a period, for one order."""
        self._allowed(ctx, "adherence")
        known = self._known_order(order_id)
        if known is None:
            raise InvalidInputError("Adherence is reported for an order.", "order_id")
        for name, value in (("doses_taken", doses_taken), ("doses_missed", doses_missed)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError("Give a whole number of doses, 0 or more.", name)
        start, end = _iso_date(period_start, "period_start"), _iso_date(period_end, "period_end")
        if end < start:
            raise InvalidInputError("The period ends before it starts.", "period_end")
        return self._trigger(
            self.AdherenceReported,
            ctx,
            effective_time(ctx, effective_at),
            adherence_id=new_id(),
            order_id=known,
            doses_taken=doses_taken,
            doses_missed=doses_missed,
            period_start=start,
            period_end=end,
        )

    # -- safety alerts ---------------------------------------------------------------------
    def raise_alert(
        self,
        ctx: CommandContext,
        *,
        finding: Any,
        rule_pack_version: str,
        override_reason: str | None = None,
    ) -> str:
        """Record a safety finding as an open alert (called by the safety check of a write)."""
        alert_id = new_id()
        self._trigger(
            self.SafetyAlertRaised,
            ctx,
            alert_id=alert_id,
            key=finding.key,
            rule_id=finding.rule_id,
            rule_pack_version=rule_pack_version,
            kind=finding.kind,
            severity=finding.severity,
            message=finding.message,
            action=finding.action,
            source=finding.source,
            order_ids=list(finding.order_ids),
            due_at=finding.due_at,
            test=finding.test,
            override_reason=override_reason,
        )
        return alert_id

    @checked_command
    def resolve_alert(
        self,
        ctx: CommandContext,
        *,
        alert_id: Any,
        resolution: Any,
        reason: Any = None,
        action: Any = None,
        result: Any = None,
    ) -> str:
        """A clinician closes an alert with a reason (see ``domain.alert_resolution``): a
        suicide-risk alert by a psychiatrist or therapist on the care team, with the action
        taken; any other by a prescriber or pharmacist."""
        self._require_access(ctx)
        alert = self.plan.alerts.get(require_id(alert_id, "alert_id", "An alert id"))
        if alert is None:
            raise NotFoundError(f"There is no safety alert {alert_id}.", "alert_id")
        require_resolver(ctx.actor, alert, self.is_member(ctx.actor.id))
        if alert["status"] != "open":
            raise InvalidInputError("That alert was resolved already.", "alert_id")
        resolution = choice(resolution, "resolution", RESOLUTIONS)
        if resolution == "overridden" and not (isinstance(reason, str) and reason.strip()):
            raise InvalidInputError("An override needs a reason.", "reason")
        text = reason_with_content(reason)
        taken, outcome = structured_action(alert, action, result)
        return self._trigger(
            self.SafetyAlertResolved,
            ctx,
            alert_id=alert_id,
            resolution=resolution,
            reason=text,
            action=taken,
            result=outcome,
        )

    def resolve_alert_by_system(
        self,
        ctx: CommandContext,
        alert_id: str,
        reason: str = "Condition no longer holds after this change to the plan.",
        superseded_by: str | None = None,
    ) -> str:
        """CareLog closes an open alert itself, under the system actor: its condition no
        longer holds after the writer's change, or (``superseded_by``) it was raised again
        with the current figures."""
        event_id = new_id()
        self.trigger_event(
            self.SafetyAlertResolved,
            event_id=event_id,
            actor_id=SYSTEM_ACTOR_ID,
            actor_role=SYSTEM_ROLE,
            effective_at=ctx.now,
            correlation_id=ctx.correlation_id,
            timestamp=ctx.now,
            alert_id=alert_id,
            resolution=SUPERSEDED if superseded_by else NO_LONGER_APPLIES,
            reason=reason,
            superseded_by=superseded_by,
        )
        return event_id

    # -- notes, education, follow-ups, reviews, labs, facts --------------------------------
    @checked_command
    def add_note(
        self,
        ctx: CommandContext,
        *,
        kind: Any,
        modality: Any,
        text: Any,
        effective_at: Any = None,
    ) -> str:
        """A progress note (read by the team) or a psychotherapy note (by its author only)."""
        kind = choice(kind, "kind", NOTE_KINDS)
        self._allowed(ctx, "psychotherapy_note" if kind == "psychotherapy" else "progress_note")
        return self._trigger(
            self.NoteAdded,
            ctx,
            effective_at,
            note_id=new_id(),
            kind=kind,
            modality=choice(modality, "modality", MODALITIES),
            text=require_text(text, "text", "The note text"),
        )

    @checked_command
    def record_education(
        self,
        ctx: CommandContext,
        *,
        topic: Any,
        order_id: Any = None,
        materials: Any = None,
        effective_at: Any = None,
    ) -> str:
        """The patient was taught about a topic or a medication."""
        self._allowed(ctx, "education")
        return self._trigger(
            self.EducationProvided,
            ctx,
            effective_at,
            education_id=new_id(),
            topic=require_text(topic, "topic", "A topic"),
            order_id=self._known_order(order_id),
            materials=optional_text(materials, "materials"),
        )

    @checked_command
    def schedule_follow_up(
        self, ctx: CommandContext, *, due_at: Any, purpose: Any, effective_at: Any = None
    ) -> str:
        """A check-in due by a time; it shows as overdue on the dashboard after that."""
        self._allowed(ctx, "follow_up")
        due = future_due_time(ctx, due_at)
        return self._trigger(
            self.FollowUpScheduled,
            ctx,
            effective_time(ctx, effective_at),
            follow_up_id=new_id(),
            due_at=due,
            purpose=require_text(purpose, "purpose", "A purpose"),
        )

    @checked_command
    def complete_follow_up(
        self,
        ctx: CommandContext,
        *,
        follow_up_id: Any,
        outcome: Any,
        effective_at: Any = None,
    ) -> str:
        """A scheduled check-in took place."""
        self._allowed(ctx, "follow_up")
        follow_up_id = require_id(follow_up_id, "follow_up_id", "A follow-up id")
        follow_up = self.plan.follow_ups.get(follow_up_id)
        if follow_up is None:
            raise NotFoundError(f"There is no follow-up {follow_up_id}.", "follow_up_id")
        if follow_up["status"] != "scheduled":
            raise InvalidInputError("That follow-up was completed already.", "follow_up_id")
        return self._trigger(
            self.FollowUpCompleted,
            ctx,
            effective_at,
            follow_up_id=follow_up_id,
            outcome=require_text(outcome, "outcome", "An outcome"),
        )

    @checked_command
    def review_plan(
        self, ctx: CommandContext, *, outcome: Any, summary: Any = None, effective_at: Any = None
    ) -> str:
        """A review of the whole plan, e.g. a pharmacist's medication review."""
        self._allowed(ctx, "plan_review")
        return self._trigger(
            self.PlanReviewed,
            ctx,
            effective_time(ctx, effective_at),
            review_id=new_id(),
            outcome=require_text(outcome, "outcome", "An outcome"),
            summary=optional_text(summary, "summary"),
        )

    @checked_command
    def record_lab_result(
        self,
        ctx: CommandContext,
        *,
        test: Any,
        value: Any = None,
        unit: Any = None,
        effective_at: Any = None,
    ) -> str:
        """A lab value or measurement the monitoring rules read."""
        self._allowed(ctx, "lab_result")
        if value is not None:
            value = plausible_lab_value(
                finite_number(value, "value", "A lab value must be a number."), "value"
            )
        return self._trigger(
            self.LabResultRecorded,
            ctx,
            effective_at,
            lab_id=new_id(),
            test=require_text(test, "test", "The test"),
            value=None if value is None else float(value),
            unit=optional_text(unit, "unit"),
        )

    @checked_command
    def record_fact(
        self, ctx: CommandContext, *, fact: Any, value: Any, effective_at: Any = None
    ) -> str:
        """A clinical fact (smoking status, metaboliser status, alcohol use ...). A fact the
        rules read takes only its allowed values, common wordings turned into them ("Poor
        metabolizer" -> poor), under its canonical name; a free fact is kept as typed."""
        self._allowed(ctx, "clinical_fact")
        name = require_text(fact, "fact", "The fact")
        text = require_text(value, "value", "The value")
        spec = fact_spec(name)
        if spec is not None:
            # A value outside the set would match no rule and pass as safe.
            canonical = spec.value_of(text)
            if canonical is None:
                raise InvalidInputError(refusal(spec, text), "value")
            name, text = spec.name, canonical
        return self._trigger(self.ClinicalFactRecorded, ctx, effective_at, fact=name, value=text)

    # -- corrections -----------------------------------------------------------------------
    @checked_command
    def correct_entry(self, ctx: CommandContext, *, event_id: Any, fields: Any, reason: Any) -> str:
        """Correct fields of an earlier entry; only its author may, and the original stays."""
        self._allowed(ctx, "correction")
        found_source = self.plan.sources.get(event_id) if isinstance(event_id, str) else None
        if found_source is None:
            raise NotFoundError("There is no correctable entry with that id.", "event_id")
        source = found_source.as_dict()
        if source["actor_id"] != ctx.actor.id:
            raise NotPermittedError("Only the author of an entry may correct it.")
        if not isinstance(fields, dict) or not fields:
            raise InvalidInputError("Name at least one field to correct.", "fields")
        allowed = CORRECTABLE_FIELDS.get(source["type"], frozenset())
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise InvalidInputError(
                f"{', '.join(unknown)} cannot be corrected on a {source['type']}"
                f" (correctable: {', '.join(sorted(allowed)) or 'nothing'}).",
                "fields",
            )
        if source["type"] == "AssessmentRecorded":
            found = [a for a in self.plan.assessments if a["event_id"] == event_id]
            source = {**source, "instrument": found[0]["instrument"] if found else None}
        if source["type"] == PGX_EVENT:  # a report date is checked against the birth date
            source = {**source, "plan": self.plan}
        checked = {name: _check_field(source, name, value, ctx) for name, value in fields.items()}
        moved, born = checked.get("effective_at"), self.plan.patient.get("birth_date")
        if (
            isinstance(moved, datetime)
            and isinstance(born, str)
            and moved.date().isoformat() < born
        ):
            raise InvalidInputError(
                "effective_at is before the patient's birth date.", "fields.effective_at"
            )
        if source["type"] == PGX_EVENT:
            check_correction(self.plan, source["key"], checked)
        reborn, first = checked.get("birth_date"), self.plan.earliest_entry_at
        if isinstance(reborn, str) and first is not None and first.date().isoformat() < reborn:
            raise InvalidInputError(
                f"birth_date is after the patient's earliest entry ({first.date().isoformat()}).",
                "fields.birth_date",
            )
        return self._trigger(
            self.EntryCorrected,
            ctx,
            corrected_event_id=event_id,
            fields=checked,
            reason=require_text(reason, "reason", "A reason for the correction"),
        )


def _late_entry(ctx: CommandContext, effective_at: Any) -> datetime | None:
    """The checked clinical time when one was given (a late entry), else None."""
    return None if effective_at is None else effective_time(ctx, effective_at)


def _not_before(when: datetime | None, since: datetime, what: str) -> None:
    """A late entry cannot predate what it changes (an order, a goal, a team membership)."""
    if when is not None and when < since:
        raise InvalidInputError(
            f"effective_at is before {what} ({since.isoformat()}).", "effective_at"
        )


def _iso_date(raw: Any, field_name: str) -> str:
    if isinstance(raw, str):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if day.year < EARLIEST_CLINICAL_YEAR:
                raise InvalidInputError(
                    "Before 1900-01-01: no clinical entry is that old.", field_name
                )
            return day.isoformat()
    return _bad_date(field_name)


def _bad_date(field_name: str) -> str:
    raise InvalidInputError("Give a date like 2026-03-01.", field_name)


def _check_field(source: dict[str, Any], name: str, value: Any, ctx: CommandContext) -> Any:
    """A corrected value passes the same checks as the original entry did."""
    field_name = f"fields.{name}"
    try:
        if source["type"] == PGX_EVENT and name != "effective_at":
            return check_corrected(name, value, ctx, source.get("plan"))
        if name == "dose":
            return Dose.parse(value).as_dict()
        if name == "frequency":
            return parse_frequency(value)
        if name == "route":
            return parse_route(value)
        if name == "effective_at":
            when = parse_time(value, name)
            if when > ctx.now:
                raise InvalidInputError("effective_at is in the future.", name)
            return when
        if name == "due_at":
            due = parse_time(value, name)
            check_due(due.date(), name)
            return due
        if name == "due_date":
            day = _iso_date(value, name)
            check_due(date.fromisoformat(day), name)
            return day
        if name == "item_scores":
            return list(score(source.get("instrument") or "", value).item_scores)
        if name == "severity":
            return choice(value, name, SEVERITIES)
        if name == "modality":
            return choice(value, name, MODALITIES)
        if name in {"birth_date", "due_date", "period_start", "period_end"}:
            return _iso_date(value, name)
        if name in {"allergies", "diagnoses"}:
            return text_list(value, name)
        if name in {"doses_taken", "doses_missed"}:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError("Give a whole number of doses, 0 or more.", name)
            return value
        if name == "value" and source["type"] == "ClinicalFactRecorded":
            spec = fact_spec(str(source.get("key") or ""))
            text = require_text(value, name, "The value")
            canonical = spec.value_of(text) if spec else text
            if spec is not None and canonical is None:
                raise InvalidInputError(refusal(spec, text), name)
            return canonical
        if name == "value" and source["type"] == "LabResultRecorded":
            if value is not None and not isinstance(value, (int, float)):
                raise InvalidInputError("A lab value must be a number.", name)
            if value is not None:
                plausible_lab_value(
                    finite_number(value, name, "A lab value must be a number."), name
                )
            return value
        if name == "order_id":
            return value
        if name in {
            "text",
            "name",
            "effect",
            "reason",
            "outcome",
            "purpose",
            "topic",
            "description",
            "indication",
            "value",
        }:
            return bounded_text(require_text(value, name, f"The {name}"), name)
        return bounded_text(optional_text(value, name), name)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, field_name) from None
