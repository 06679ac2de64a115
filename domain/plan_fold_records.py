"""The fold's handlers for the clinical records (``domain/plan_records.py``): each makes
or changes one record, and notes which event made it (``record_source``). The handler
table that dispatches to them by event class is in ``domain/plan_fold.py``."""

from __future__ import annotations

from bisect import insort
from dataclasses import replace
from typing import TYPE_CHECKING

from domain.plan_corrections import effective_key
from domain.plan_meta import Meta, changed, record_source
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
from domain.plan_vocabulary import ConditionStatus, FollowUpStatus

if TYPE_CHECKING:
    from domain import patient_events as R
    from domain.plan import PlanState


def consent(s: PlanState, e: R.ConsentRecorded, m: Meta) -> None:
    s.consents.append(
        Consent(consent_id=e.consent_id, scope=e.scope, decision=e.decision, note=e.note, **m)
    )
    record_source(s, e, "consent", e.consent_id)


def assessment(s: PlanState, e: R.AssessmentRecorded, m: Meta) -> None:
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
    record_source(s, e, "assessment", e.assessment_id)


def goal(s: PlanState, e: R.GoalSet, m: Meta) -> None:
    s.goals[e.goal_id] = Goal(
        goal_id=e.goal_id, description=e.description, target=e.target, due_date=e.due_date, **m
    )
    record_source(s, e, "goal", e.goal_id)


def goal_status(s: PlanState, e: R.GoalStatusChanged, m: Meta) -> None:
    changed(
        s.goals,
        e.goal_id,
        lambda goal: replace(
            goal, status=e.status, status_note=e.note, status_changed_at=m["effective_at"]
        ),
    )


def side_effect(s: PlanState, e: R.SideEffectReported, m: Meta) -> None:
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
    record_source(s, e, "side_effect", e.side_effect_id)


def adherence(s: PlanState, e: R.AdherenceReported, m: Meta) -> None:
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
    record_source(s, e, "adherence", e.adherence_id)


def note(s: PlanState, e: R.NoteAdded, m: Meta) -> None:
    s.notes[e.note_id] = Note(
        note_id=e.note_id, kind=e.kind, modality=e.modality, text=e.text, author_id=e.actor_id, **m
    )
    record_source(s, e, "note", e.note_id)


def education(s: PlanState, e: R.EducationProvided, m: Meta) -> None:
    s.education.append(
        Education(
            education_id=e.education_id,
            topic=e.topic,
            order_id=e.order_id,
            materials=e.materials,
            **m,
        )
    )
    record_source(s, e, "education", e.education_id)


def follow_up(s: PlanState, e: R.FollowUpScheduled, m: Meta) -> None:
    s.follow_ups[e.follow_up_id] = FollowUp(
        follow_up_id=e.follow_up_id, due_at=e.due_at, purpose=e.purpose, **m
    )
    record_source(s, e, "follow_up", e.follow_up_id)


def follow_up_done(s: PlanState, e: R.FollowUpCompleted, m: Meta) -> None:
    if changed(
        s.follow_ups,
        e.follow_up_id,
        lambda follow_up: replace(
            follow_up,
            status=FollowUpStatus.COMPLETED,
            outcome=e.outcome,
            completed_at=m["effective_at"],
        ),
    ):
        record_source(s, e, "follow_up_completion", e.follow_up_id)


def review(s: PlanState, e: R.PlanReviewed, m: Meta) -> None:
    s.reviews.append(Review(review_id=e.review_id, outcome=e.outcome, summary=e.summary, **m))
    record_source(s, e, "review", e.review_id)


def lab(s: PlanState, e: R.LabResultRecorded, m: Meta) -> None:
    lab = Lab(lab_id=e.lab_id, test=e.test, value=e.value, unit=e.unit, **m)
    insort(s.labs, lab, key=effective_key)
    record_source(s, e, "lab", e.lab_id)


def fact(s: PlanState, e: R.ClinicalFactRecorded, m: Meta) -> None:
    s.facts[e.fact] = Fact(fact=e.fact, value=e.value, **m)
    record_source(s, e, "fact", e.fact)


def condition(s: PlanState, e: R.ConditionRecorded, m: Meta) -> None:
    s.conditions[e.condition_id] = Condition(
        condition_id=e.condition_id,
        code=e.code,
        display=e.display,
        onset_date=e.onset_date,
        verification_status=e.verification_status,
        **m,
    )


def condition_resolved(s: PlanState, e: R.ConditionResolved, m: Meta) -> None:
    resolution = ConditionResolution(resolved_date=e.resolved_date, reason=e.reason, **m)
    if changed(
        s.conditions,
        e.condition_id,
        lambda condition: replace(
            condition, status=ConditionStatus.RESOLVED, resolution=resolution
        ),
    ):
        return
    if e.condition_id.startswith("dx:"):  # a diagnosis made in assessments
        code = e.condition_id[3:]
        before = s.resolved_diagnoses.get(code)
        at = m["effective_at"]
        s.resolved_diagnoses[code] = at if before is None else max(before, at)


def sex_at_birth(s: PlanState, e: R.SexAtBirthRecorded, m: Meta) -> None:
    s.patient = replace(s.patient, sex_at_birth=e.sex_at_birth)


def pregnancy(s: PlanState, e: R.PregnancyStatusRecorded, m: Meta) -> None:
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


def pharmacogenomic(s: PlanState, e: R.PharmacogenomicResultRecorded, m: Meta) -> None:
    s.pharmacogenomics[e.result_id] = PharmacogenomicResult(
        result_id=e.result_id,
        gene=e.gene,
        diplotype=e.diplotype,
        phenotype=e.phenotype,
        lab=e.lab,
        report_date=e.report_date,
        **m,
    )
    record_source(s, e, "pharmacogenomic", e.result_id)
