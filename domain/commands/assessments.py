"""Commands that record assessments and set and follow treatment goals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from domain.commands.late_entry import LateEntry


@dataclass(frozen=True)
class RecordAssessment(LateEntry):
    """A PHQ-9, GAD-7 or clinical assessment, with its answers; CareLog scores it."""

    instrument: str
    item_scores: Sequence[int] = ()
    diagnoses: Sequence[str] = ()
    summary: str | None = None


@dataclass(frozen=True)
class SetGoal(LateEntry):
    """A treatment goal the team works towards."""

    description: str
    target: str | None = None
    due_date: date | None = None


@dataclass(frozen=True)
class ChangeGoalStatus(LateEntry):
    """A goal was met, revised or abandoned."""

    goal_id: str
    status: str
    note: str | None = None
