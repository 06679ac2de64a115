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
from typing import TYPE_CHECKING, TypeVar, cast

from domain import plan_fold_records as r
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
)
from domain.plan_meta import Meta, changed, event_type, meta_of, record_source, type_name
from domain.plan_vocabulary import AlertStatus, OrderStatus, StepKind

if TYPE_CHECKING:
    from domain import patient_events as R
    from domain.plan import PlanState

__all__ = ["event_type", "fold_event", "handlers", "type_name"]


def _registered(s: PlanState, e: R.PatientRegistered, m: Meta) -> None:
    s.patient = Patient(
        external_id=e.external_id,
        name=e.name,
        birth_date=e.birth_date,
        allergies=tuple(e.allergies),
        registered_at=m["recorded_at"],
    )
    record_source(s, e, "patient", "")


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
    changed(
        s.care_team,
        e.clinician_id,
        lambda member: replace(
            member, active=False, until=m["effective_at"], removal_reason=e.reason
        ),
    )


def _emergency_access(s: PlanState, e: R.EmergencyAccessGranted, m: Meta) -> None:
    s.emergency_access[e.actor_id] = EmergencyAccess(
        clinician_id=e.actor_id,
        role=e.actor_role,
        reason=e.reason,
        granted_at=m["recorded_at"],
        expires_at=e.expires_at,
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
    record_source(s, e, "order", e.order_id)


def _with_step(order: Order, step: DoseStep) -> Order:
    steps = list(order.steps)
    insort(steps, step, key=effective_key)
    return replace(order, steps=tuple(steps))


def _dose_changed(s: PlanState, e: R.DoseChanged, m: Meta) -> None:
    step = _step(e, m, StepKind.CHANGE, e.reason)
    if changed(s.orders, e.order_id, lambda order: _with_step(order, step)):
        record_source(s, e, "step", e.order_id)


def _discontinued(s: PlanState, e: R.MedicationDiscontinued, m: Meta) -> None:
    if changed(
        s.orders,
        e.order_id,
        lambda order: replace(
            order,
            status=OrderStatus.DISCONTINUED,
            stopped_at=m["effective_at"],
            stop_reason=e.reason,
            taper=e.taper,
            stopped_by=m["actor"],
        ),
    ):
        record_source(s, e, "stop", e.order_id)


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
    resolution = AlertResolution(
        resolution=e.resolution,
        reason=e.reason,
        action=getattr(e, "action", None),
        result=getattr(e, "result", None),
        superseded_by=getattr(e, "superseded_by", None),
        **m,
    )
    changed(
        s.alerts,
        e.alert_id,
        lambda alert: replace(alert, status=AlertStatus.RESOLVED, resolution=resolution),
    )


def _corrected(s: PlanState, e: R.EntryCorrected, m: Meta) -> None:
    fields = dict(e.fields)
    s.corrections.append(
        Correction(corrected_event_id=e.corrected_event_id, fields=fields, reason=e.reason, **m)
    )
    source = s.sources.get(e.corrected_event_id)
    if source is not None:
        patch(s, source, e.corrected_event_id, fields)


Handler = Callable[["PlanState", object, Meta], None]
"""A handler as the table holds it: called only with an event of its own class."""

E = TypeVar("E")


def _on(
    event_class: type[E], handler: Callable[[PlanState, E, Meta], None]
) -> tuple[type, Handler]:
    """One row of the table: mypy checks here that the handler takes that event class, so
    the table may hold it as taking any event (it is only ever given its own class)."""
    return event_class, cast(Handler, handler)


def _handlers() -> dict[type, Handler]:
    from domain.patient_record import PatientRecord as R

    return dict(
        [
            _on(R.PatientRegistered, _registered),
            _on(R.CareTeamMemberAssigned, _member_assigned),
            _on(R.CareTeamMemberRemoved, _member_removed),
            _on(R.EmergencyAccessGranted, _emergency_access),
            _on(R.ConsentRecorded, r.consent),
            _on(R.AssessmentRecorded, r.assessment),
            _on(R.GoalSet, r.goal),
            _on(R.GoalStatusChanged, r.goal_status),
            _on(R.MedicationPrescribed, _prescribed),
            _on(R.DoseChanged, _dose_changed),
            _on(R.MedicationDiscontinued, _discontinued),
            _on(R.SideEffectReported, r.side_effect),
            _on(R.AdherenceReported, r.adherence),
            _on(R.SafetyAlertRaised, _alert_raised),
            _on(R.SafetyAlertResolved, _alert_resolved),
            _on(R.NoteAdded, r.note),
            _on(R.EducationProvided, r.education),
            _on(R.FollowUpScheduled, r.follow_up),
            _on(R.FollowUpCompleted, r.follow_up_done),
            _on(R.PlanReviewed, r.review),
            _on(R.LabResultRecorded, r.lab),
            _on(R.ClinicalFactRecorded, r.fact),
            _on(R.EntryCorrected, _corrected),
            _on(R.ConditionRecorded, r.condition),
            _on(R.ConditionResolved, r.condition_resolved),
            _on(R.SexAtBirthRecorded, r.sex_at_birth),
            _on(R.PregnancyStatusRecorded, r.pregnancy),
            _on(R.PharmacogenomicResultRecorded, r.pharmacogenomic),
        ]
    )


_FOLD: dict[type, Handler] = {}


def handlers() -> dict[type, Handler]:
    """Event class -> the handler that folds it (a class not here changes nothing)."""
    if not _FOLD:
        _FOLD.update(_handlers())
    return _FOLD


def fold_event(state: PlanState, event: object) -> None:
    """Apply one event: its class's handler, then the earliest clinical time of any entry
    (registration is not an entry; a correction's moved time is)."""
    fold = _FOLD or handlers()
    handler = fold.get(type(event))
    if handler is not None:
        handler(state, event, meta_of(cast("R.Event", event)))  # a class of the table: an event
        if handler is _registered:
            return
    fields = getattr(event, "fields", None)
    moved = fields.get("effective_at") if isinstance(fields, dict) else None
    state.note_earliest(getattr(event, "effective_at", None), moved)
