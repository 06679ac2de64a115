"""The plan's clinical records: each made by one event (``Recorded``: that event, its
author, its clinical and recorded times), some changed later by another (a goal's status,
a follow-up's completion, a condition's resolution), any of them corrected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from domain.plan_entity import (
    Correctable,
    Recorded,
    Revive,
    entity,
    member_of,
    revive_with,
    tuple_of,
)
from domain.plan_vocabulary import GOAL_ACTIVE, ConditionStatus, FollowUpStatus


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Consent(Correctable):
    """The patient granted, refused or withdrew consent for a scope of care."""

    consent_id: str
    scope: str
    decision: str
    note: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Assessment(Correctable):
    """A scored or clinical assessment (total and band worked out when scored)."""

    assessment_id: str
    instrument: str
    item_scores: tuple[int, ...]
    total: int | None
    severity: str | None
    diagnoses: tuple[str, ...]
    summary: str

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(
        Correctable, item_scores=tuple_of, diagnoses=tuple_of
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Goal(Correctable):
    """A treatment goal, active until its status is changed."""

    goal_id: str
    description: str
    target: str
    due_date: str | None
    status: str = GOAL_ACTIVE
    status_note: str | None = None
    status_changed_at: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SideEffect(Correctable):
    """A side effect seen or reported, perhaps tied to an order."""

    side_effect_id: str
    order_id: str | None
    effect: str
    severity: str
    onset: str | None
    action_taken: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Adherence(Correctable):
    """Doses taken and missed of an order over a period."""

    adherence_id: str
    order_id: str
    doses_taken: int
    doses_missed: int
    period_start: str
    period_end: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Note(Correctable):
    """A progress or psychotherapy note (the latter shown to its author alone)."""

    note_id: str
    kind: str
    modality: str
    text: str
    author_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Education(Correctable):
    """What the patient was taught, perhaps about one order."""

    education_id: str
    topic: str
    order_id: str | None
    materials: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FollowUp(Correctable):
    """A check-in due by a time, scheduled until it took place."""

    follow_up_id: str
    due_at: datetime
    purpose: str
    status: FollowUpStatus = FollowUpStatus.SCHEDULED
    outcome: str | None = None
    completed_at: datetime | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(
        Correctable, status=member_of(FollowUpStatus)
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Review(Correctable):
    """A review of the plan, e.g. a pharmacist's."""

    review_id: str
    outcome: str
    summary: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Lab(Correctable):
    """A lab value or measurement the monitoring rules read."""

    lab_id: str
    test: str
    value: float | None
    unit: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Fact(Correctable):
    """The latest value of a clinical fact the rules read (smoking, a metaboliser status)."""

    fact: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConditionResolution(Recorded):
    """When and why a condition left the problem list."""

    resolved_date: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Condition(Recorded):
    """A condition on the problem list, active until resolved."""

    condition_id: str
    code: str
    display: str
    onset_date: str | None
    verification_status: str
    status: ConditionStatus = ConditionStatus.ACTIVE
    resolution: ConditionResolution | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(
        Recorded, status=member_of(ConditionStatus), resolution=entity(ConditionResolution)
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Pregnancy(Recorded):
    """The latest pregnancy status, and the entry that began it (a new due date
    continues a status, it does not begin another)."""

    status: str
    as_of: str
    expected_delivery_date: str | None
    episode_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PharmacogenomicResult(Correctable):
    """A pharmacogenomic result as the lab reported it."""

    result_id: str
    gene: str
    diplotype: str | None
    phenotype: str | None
    lab: str
    report_date: str
