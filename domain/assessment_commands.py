"""Assessments (scored here, never by the client) and the treatment goals of the plan.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.clinical_vocabulary import GOAL_STATUSES, ICD10
from domain.command_context import (
    CommandContext,
    check_due,
    checked_command,
    choice,
    effective_time,
    new_id,
    optional_text,
    require_id,
    require_text,
    text_list,
)
from domain.errors import InvalidInputError, NotFoundError
from domain.record_checks import RecordCommandsBase, iso_date, late_entry, not_before
from domain.scoring import score


class AssessmentCommands(RecordCommandsBase):
    """Commands that record assessments and set and follow goals."""

    @checked_command
    def record_assessment(
        self,
        ctx: CommandContext,
        *,
        instrument: str,
        item_scores: Sequence[int] | None = None,
        diagnoses: Sequence[str] | None = None,
        summary: str | None = None,
        effective_at: datetime | None = None,
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
        description: str,
        target: str | None = None,
        due_date: str | None = None,
        effective_at: datetime | None = None,
    ) -> str:
        """A treatment goal the team works towards."""
        self._allowed(ctx, "goal")
        if due_date is not None:
            due_date = iso_date(due_date, "due_date")
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
        goal_id: str,
        status: str,
        note: str | None = None,
        effective_at: datetime | None = None,
    ) -> str:
        """A goal was met, revised or abandoned."""
        self._allowed(ctx, "goal")
        goal_id = require_id(goal_id, "goal_id", "A goal id")
        goal = self.plan.goals.get(goal_id)
        if goal is None:
            raise NotFoundError(f"There is no goal {goal_id}.", "goal_id")
        when = late_entry(ctx, effective_at)
        not_before(when, goal["effective_at"], "the goal was set")
        return self._trigger(
            self.GoalStatusChanged,
            ctx,
            when,
            goal_id=goal_id,
            status=choice(status, "status", GOAL_STATUSES),
            note=optional_text(note, "note"),
        )
