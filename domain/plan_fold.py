"""The fold: one handler per event class, looked up in a table built once.

A handler is found by the event's class, never by its name, so an event class without a
handler is a failing test (``tests/unit/test_event_handlers.py``), not a silent miss. The
table is built on first use because the event classes live in ``domain/patient_record.py``,
which itself imports the plan.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast

from domain.plan_corrections import effective_key, patch
from domain.plan_entities import (
    Alert,
    AlertResolution,
    CareTeamMember,
    Continuing,
    Correction,
    Dose,
    DoseStep,
    Drug,
    EmergencyAccess,
    Order,
    Patient,
    Source,
)
from domain.plan_entity import Author
from domain.plan_records import (
    Adherence,
    Assessment,
    Condition,
    ConditionResolution,
    Consent,
    Education,
    Fact,
    FollowUp,
    Goal,
    Lab,
    Note,
    PharmacogenomicResult,
    Pregnancy,
    Review,
    SideEffect,
)
from domain.plan_vocabulary import (
    AlertStatus,
    ConditionStatus,
    FollowUpStatus,
    OrderStatus,
    StepKind,
)

if TYPE_CHECKING:
    from domain.patient_record import PatientRecord as R
    from domain.plan import PlanState

_TYPES: dict[type, str] = {}


def event_type(event: object) -> str:
    """The public name of an event (its class name, e.g. ``DoseChanged``), looked up once
    per class: every view and feed asks it of every event."""
    cls = type(event)
    name = _TYPES.get(cls)
    if name is None:
        name = _TYPES[cls] = type_name(cls)
    return name


def type_name(cls: type) -> str:
    """The public name of an event class (what views and feeds key by)."""
    return str(getattr(cls, "TYPE", cls.__name__))


class Meta(TypedDict):
    """What every entity made by an event keeps of it."""

    event_id: str
    actor: Author
    effective_at: datetime
    recorded_at: datetime


def _meta(e: R.Event | R.PatientRegistered) -> Meta:
    return {
        "event_id": e.event_id,
        "actor": Author(e.actor_id, e.actor_role),
        "effective_at": e.effective_at,
        "recorded_at": e.timestamp,
    }


def _source(state: PlanState, e: R.Event | R.PatientRegistered, kind: str, key: str) -> None:
    state.sources[e.event_id] = Source(
        type=event_type(e),
        kind=kind,
        key=key,
        actor_id=e.actor_id,
        note_kind=getattr(e, "kind", None) if kind == "note" else None,
    )


def _registered(s: PlanState, e: R.PatientRegistered, m: Meta) -> None:
    s.patient = Patient(
        external_id=e.external_id,
        name=e.name,
        birth_date=e.birth_date,
        allergies=tuple(e.allergies),
        registered_at=m["recorded_at"],
    )
    _source(s, e, "patient", "")


def _member_assigned(s: PlanState, e: R.CareTeamMemberAssigned, m: Meta) -> None:
    s.care_team[e.clinician_id] = CareTeamMember(
        clinician_id=e.clinician_id,
        name=e.clinician_name,
        role=e.role,
        since=m["effective_at"],
        until=None,
        active=True,
        assigned_by=m["actor"],
    )


def _member_removed(s: PlanState, e: R.CareTeamMemberRemoved, m: Meta) -> None:
    member = s.care_team.get(e.clinician_id)
    if member is not None:
        s.care_team[e.clinician_id] = replace(
            member, active=False, until=m["effective_at"], removal_reason=e.reason
        )


def _emergency_access(s: PlanState, e: R.EmergencyAccessGranted, m: Meta) -> None:
    s.emergency_access[e.actor_id] = EmergencyAccess(
        clinician_id=e.actor_id,
        role=e.actor_role,
        reason=e.reason,
        granted_at=m["recorded_at"],
        expires_at=e.expires_at,
    )


def _consent(s: PlanState, e: R.ConsentRecorded, m: Meta) -> None:
    s.consents.append(
        Consent(consent_id=e.consent_id, scope=e.scope, decision=e.decision, note=e.note, **m)
    )
    _source(s, e, "consent", e.consent_id)


def _assessment(s: PlanState, e: R.AssessmentRecorded, m: Meta) -> None:
    assessment = Assessment(
        assessment_id=e.assessment_id,
        instrument=e.instrument,
        item_scores=tuple(e.item_scores),
        total=e.total,
        severity=e.severity,
        diagnoses=tuple(e.diagnoses),
        summary=e.summary,
        **m,
    )
    insort(s.assessments, assessment, key=effective_key)
    _source(s, e, "assessment", e.assessment_id)


def _goal(s: PlanState, e: R.GoalSet, m: Meta) -> None:
    s.goals[e.goal_id] = Goal(
        goal_id=e.goal_id, description=e.description, target=e.target, due_date=e.due_date, **m
    )
    _source(s, e, "goal", e.goal_id)


def _goal_status(s: PlanState, e: R.GoalStatusChanged, m: Meta) -> None:
    goal = s.goals.get(e.goal_id)
    if goal is not None:
        s.goals[e.goal_id] = replace(
            goal, status=e.status, status_note=e.note, status_changed_at=m["effective_at"]
        )


def _step(
    e: R.MedicationPrescribed | R.DoseChanged, m: Meta, kind: StepKind, reason: str | None
) -> DoseStep:
    dose = cast(Dose, dict(e.dose))
    return DoseStep(kind=kind, dose=dose, frequency=e.frequency, reason=reason, **m)


def _prescribed(s: PlanState, e: R.MedicationPrescribed, m: Meta) -> None:
    s.orders[e.order_id] = Order(
        order_id=e.order_id,
        drug=cast(Drug, dict(e.drug)),
        route=e.route,
        indication=e.indication,
        instructions=e.instructions,
        prescriber=m["actor"],
        status=OrderStatus.ACTIVE,
        since=m["effective_at"],
        steps=(_step(e, m, StepKind.START, None),),
        override_reason=getattr(e, "override_reason", None),
        continuing=cast(Continuing | None, e.continuing),
    )
    _source(s, e, "order", e.order_id)


def _dose_changed(s: PlanState, e: R.DoseChanged, m: Meta) -> None:
    order = s.orders.get(e.order_id)
    if order is None:
        return
    steps = list(order.steps)
    insort(steps, _step(e, m, StepKind.CHANGE, e.reason), key=effective_key)
    s.orders[e.order_id] = replace(order, steps=tuple(steps))
    _source(s, e, "step", e.order_id)


def _discontinued(s: PlanState, e: R.MedicationDiscontinued, m: Meta) -> None:
    order = s.orders.get(e.order_id)
    if order is None:
        return
    s.orders[e.order_id] = replace(
        order,
        status=OrderStatus.DISCONTINUED,
        stopped_at=m["effective_at"],
        stop_reason=e.reason,
        taper=e.taper,
        stopped_by=m["actor"],
    )
    _source(s, e, "stop", e.order_id)


def _side_effect(s: PlanState, e: R.SideEffectReported, m: Meta) -> None:
    s.side_effects.append(
        SideEffect(
            side_effect_id=e.side_effect_id,
            order_id=e.order_id,
            effect=e.effect,
            severity=e.severity,
            onset=e.onset,
            action_taken=e.action_taken,
            **m,
        )
    )
    _source(s, e, "side_effect", e.side_effect_id)


def _adherence(s: PlanState, e: R.AdherenceReported, m: Meta) -> None:
    s.adherence.append(
        Adherence(
            adherence_id=e.adherence_id,
            order_id=e.order_id,
            doses_taken=e.doses_taken,
            doses_missed=e.doses_missed,
            period_start=e.period_start,
            period_end=e.period_end,
            **m,
        )
    )
    _source(s, e, "adherence", e.adherence_id)


def _alert_raised(s: PlanState, e: R.SafetyAlertRaised, m: Meta) -> None:
    s.alerts[e.alert_id] = Alert(
        alert_id=e.alert_id,
        key=e.key,
        rule_id=e.rule_id,
        rule_pack_version=e.rule_pack_version,
        kind=e.kind,
        severity=e.severity,
        message=e.message,
        action=e.action,
        source=e.source,
        order_ids=tuple(e.order_ids),
        due_at=e.due_at,
        test=e.test,
        override_reason=e.override_reason,
        **m,
    )


def _alert_resolved(s: PlanState, e: R.SafetyAlertResolved, m: Meta) -> None:
    alert = s.alerts.get(e.alert_id)
    if alert is not None:
        resolution = AlertResolution(
            resolution=e.resolution,
            reason=e.reason,
            action=getattr(e, "action", None),
            result=getattr(e, "result", None),
            superseded_by=getattr(e, "superseded_by", None),
            **m,
        )
        s.alerts[e.alert_id] = replace(alert, status=AlertStatus.RESOLVED, resolution=resolution)


def _note(s: PlanState, e: R.NoteAdded, m: Meta) -> None:
    s.notes[e.note_id] = Note(
        note_id=e.note_id, kind=e.kind, modality=e.modality, text=e.text, author_id=e.actor_id, **m
    )
    _source(s, e, "note", e.note_id)


def _education(s: PlanState, e: R.EducationProvided, m: Meta) -> None:
    s.education.append(
        Education(
            education_id=e.education_id,
            topic=e.topic,
            order_id=e.order_id,
            materials=e.materials,
            **m,
        )
    )
    _source(s, e, "education", e.education_id)


def _follow_up(s: PlanState, e: R.FollowUpScheduled, m: Meta) -> None:
    s.follow_ups[e.follow_up_id] = FollowUp(
        follow_up_id=e.follow_up_id, due_at=e.due_at, purpose=e.purpose, **m
    )
    _source(s, e, "follow_up", e.follow_up_id)


def _follow_up_done(s: PlanState, e: R.FollowUpCompleted, m: Meta) -> None:
    follow_up = s.follow_ups.get(e.follow_up_id)
    if follow_up is not None:
        s.follow_ups[e.follow_up_id] = replace(
            follow_up,
            status=FollowUpStatus.COMPLETED,
            outcome=e.outcome,
            completed_at=m["effective_at"],
        )
        _source(s, e, "follow_up_completion", e.follow_up_id)


def _review(s: PlanState, e: R.PlanReviewed, m: Meta) -> None:
    s.reviews.append(Review(review_id=e.review_id, outcome=e.outcome, summary=e.summary, **m))
    _source(s, e, "review", e.review_id)


def _lab(s: PlanState, e: R.LabResultRecorded, m: Meta) -> None:
    lab = Lab(lab_id=e.lab_id, test=e.test, value=e.value, unit=e.unit, **m)
    insort(s.labs, lab, key=effective_key)
    _source(s, e, "lab", e.lab_id)


def _fact(s: PlanState, e: R.ClinicalFactRecorded, m: Meta) -> None:
    s.facts[e.fact] = Fact(fact=e.fact, value=e.value, **m)
    _source(s, e, "fact", e.fact)


def _condition(s: PlanState, e: R.ConditionRecorded, m: Meta) -> None:
    s.conditions[e.condition_id] = Condition(
        condition_id=e.condition_id,
        code=e.code,
        display=e.display,
        onset_date=e.onset_date,
        verification_status=e.verification_status,
        **m,
    )


def _condition_resolved(s: PlanState, e: R.ConditionResolved, m: Meta) -> None:
    condition = s.conditions.get(e.condition_id)
    if condition is not None:
        resolution = ConditionResolution(resolved_date=e.resolved_date, reason=e.reason, **m)
        s.conditions[e.condition_id] = replace(
            condition, status=ConditionStatus.RESOLVED, resolution=resolution
        )
    elif e.condition_id.startswith("dx:"):  # a diagnosis made in assessments
        code = e.condition_id[3:]
        before = s.resolved_diagnoses.get(code)
        at = m["effective_at"]
        s.resolved_diagnoses[code] = at if before is None else max(before, at)


def _sex_at_birth(s: PlanState, e: R.SexAtBirthRecorded, m: Meta) -> None:
    s.patient = replace(s.patient, sex_at_birth=e.sex_at_birth)


def _pregnancy(s: PlanState, e: R.PregnancyStatusRecorded, m: Meta) -> None:
    current = s.pregnancy
    if current is not None and current.effective_at > m["effective_at"]:
        return  # a late entry older than the status on record does not replace it
    episode = e.event_id
    if current is not None and current.status == e.status:
        episode = current.episode_id or e.event_id
    s.pregnancy = Pregnancy(
        status=e.status,
        as_of=e.as_of,
        expected_delivery_date=e.expected_delivery_date,
        # the entry that began this status: a repeat (a new due date) continues it
        episode_id=episode,
        **m,
    )


def _pharmacogenomic(s: PlanState, e: R.PharmacogenomicResultRecorded, m: Meta) -> None:
    s.pharmacogenomics[e.result_id] = PharmacogenomicResult(
        result_id=e.result_id,
        gene=e.gene,
        diplotype=e.diplotype,
        phenotype=e.phenotype,
        lab=e.lab,
        report_date=e.report_date,
        **m,
    )
    _source(s, e, "pharmacogenomic", e.result_id)


def _corrected(s: PlanState, e: R.EntryCorrected, m: Meta) -> None:
    fields = dict(e.fields)
    s.corrections.append(
        Correction(corrected_event_id=e.corrected_event_id, fields=fields, reason=e.reason, **m)
    )
    source = s.sources.get(e.corrected_event_id)
    if source is not None:
        patch(s, source, e.corrected_event_id, fields)


Handler = Callable[["PlanState", Any, Meta], None]


def _handlers() -> dict[type, Handler]:
    from domain.patient_record import PatientRecord as R

    return {
        R.PatientRegistered: _registered,
        R.CareTeamMemberAssigned: _member_assigned,
        R.CareTeamMemberRemoved: _member_removed,
        R.EmergencyAccessGranted: _emergency_access,
        R.ConsentRecorded: _consent,
        R.AssessmentRecorded: _assessment,
        R.GoalSet: _goal,
        R.GoalStatusChanged: _goal_status,
        R.MedicationPrescribed: _prescribed,
        R.DoseChanged: _dose_changed,
        R.MedicationDiscontinued: _discontinued,
        R.SideEffectReported: _side_effect,
        R.AdherenceReported: _adherence,
        R.SafetyAlertRaised: _alert_raised,
        R.SafetyAlertResolved: _alert_resolved,
        R.NoteAdded: _note,
        R.EducationProvided: _education,
        R.FollowUpScheduled: _follow_up,
        R.FollowUpCompleted: _follow_up_done,
        R.PlanReviewed: _review,
        R.LabResultRecorded: _lab,
        R.ClinicalFactRecorded: _fact,
        R.EntryCorrected: _corrected,
        R.ConditionRecorded: _condition,
        R.ConditionResolved: _condition_resolved,
        R.SexAtBirthRecorded: _sex_at_birth,
        R.PregnancyStatusRecorded: _pregnancy,
        R.PharmacogenomicResultRecorded: _pharmacogenomic,
    }


_FOLD: dict[type, Handler] = {}


def handlers() -> dict[type, Handler]:
    """Event class -> the handler that folds it (a class not here changes nothing)."""
    if not _FOLD:
        _FOLD.update(_handlers())
    return _FOLD


def fold_event(state: PlanState, event: Any) -> None:
    """Apply one event: its class's handler, then the earliest clinical time of any entry
    (registration is not an entry; a correction's moved time is)."""
    fold = _FOLD or handlers()
    handler = fold.get(type(event))
    if handler is not None:
        handler(state, event, _meta(event))
        if handler is _registered:
            return
    fields = getattr(event, "fields", None)
    moved = fields.get("effective_at") if isinstance(fields, dict) else None
    state.note_earliest(getattr(event, "effective_at", None), moved)
