"""Assessments (scored here, never by the client) and the treatment goals of the plan.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from domain.clinical_vocabulary import GOAL_STATUSES, ICD10
from domain.command_context import (
    CommandContext,
    check_due,
    choice,
    effective_time,
    new_id,
    optional_text,
    require_text,
    text_list,
)
from domain.commands import ChangeGoalStatus, RecordAssessment, SetGoal
from domain.errors import InvalidInputError
from domain.record_checks import RecordCommandsBase, clinical_day, late_entry, not_before
from domain.scoring import score


class AssessmentCommands(RecordCommandsBase):
    """Commands that record assessments and set and follow goals."""

    def record_assessment(self, ctx: CommandContext, cmd: RecordAssessment) -> str:
        """A PHQ-9, GAD-7 or clinical assessment; scored here, never by the client."""
        self._allowed(ctx, "assessment")
        result = score(cmd.instrument, list(cmd.item_scores or ()))
        codes = text_list(cmd.diagnoses, "diagnoses")
        for code in codes:
            if not ICD10.match(code):
                raise InvalidInputError(f"{code!r} is not an ICD-10 code like F32.1.", "diagnoses")
        return self._trigger(
            self.AssessmentRecorded,
            ctx,
            cmd.effective_at,
            assessment_id=new_id(),
            instrument=result.instrument,
            item_scores=list(result.item_scores),
            total=result.total,
            severity=result.severity,
            diagnoses=codes,
            summary=optional_text(cmd.summary, "summary"),
        )

    def set_goal(self, ctx: CommandContext, cmd: SetGoal) -> str:
        """A treatment goal the team works towards."""
        self._allowed(ctx, "goal")
        due = None if cmd.due_date is None else clinical_day(cmd.due_date, "due_date")
        if cmd.due_date is not None:
            check_due(cmd.due_date, "due_date")
        return self._trigger(
            self.GoalSet,
            ctx,
            effective_time(ctx, cmd.effective_at),
            goal_id=new_id(),
            description=require_text(cmd.description, "description", "A goal"),
            target=optional_text(cmd.target, "target"),
            due_date=due,
        )

    def change_goal_status(self, ctx: CommandContext, cmd: ChangeGoalStatus) -> str:
        """A goal was met, revised or abandoned."""
        self._allowed(ctx, "goal")
        goal_id, goal = self._existing(self.plan.goals, cmd.goal_id, "goal_id", "goal")
        when = late_entry(ctx, cmd.effective_at)
        not_before(when, goal.effective_at, "the goal was set")
        return self._trigger(
            self.GoalStatusChanged,
            ctx,
            when,
            goal_id=goal_id,
            status=choice(cmd.status, "status", GOAL_STATUSES),
            note=optional_text(cmd.note, "note"),
        )
