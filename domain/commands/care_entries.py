"""Commands of everyday care: notes, education, follow-ups, reviews, labs, facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.commands.late_entry import LateEntry


@dataclass(frozen=True)
class AddNote(LateEntry):
    """A progress note (read by the team) or a psychotherapy note (by its author only)."""

    kind: str
    modality: str
    text: str


@dataclass(frozen=True)
class RecordEducation(LateEntry):
    """The patient was taught about a topic or a medication."""

    topic: str
    order_id: str | None = None
    materials: str | None = None


@dataclass(frozen=True)
class ScheduleFollowUp(LateEntry):
    """A check-in due by a time."""

    due_at: datetime
    purpose: str


@dataclass(frozen=True)
class CompleteFollowUp(LateEntry):
    """A scheduled check-in took place."""

    follow_up_id: str
    outcome: str


@dataclass(frozen=True)
class ReviewPlan(LateEntry):
    """A review of the whole plan, e.g. a pharmacist's medication review."""

    outcome: str
    summary: str | None = None


@dataclass(frozen=True)
class RecordLabResult(LateEntry):
    """A lab value or measurement; a qualitative result has no value."""

    test: str
    value: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class RecordFact(LateEntry):
    """A clinical fact (smoking status, metaboliser status ...)."""

    fact: str
    value: str
