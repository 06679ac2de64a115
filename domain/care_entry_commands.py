"""The entries of everyday care: notes, education, follow-ups, plan reviews, lab results
and clinical facts.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from domain.clinical_vocabulary import MODALITIES, NOTE_KINDS
from domain.command_context import (
    CommandContext,
    choice,
    effective_time,
    finite_number,
    future_due_time,
    new_id,
    optional_text,
    plausible_lab_value,
    require_text,
)
from domain.commands import (
    AddNote,
    CompleteFollowUp,
    RecordEducation,
    RecordFact,
    RecordLabResult,
    ReviewPlan,
    ScheduleFollowUp,
)
from domain.errors import InvalidInputError
from domain.record_checks import RecordCommandsBase
from domain.safety.fact_vocabulary import fact_spec, refusal


class CareEntryCommands(RecordCommandsBase):
    """Commands that append care entries to the log."""

    def add_note(self, ctx: CommandContext, cmd: AddNote) -> str:
        """A progress note (read by the team) or a psychotherapy note (by its author only)."""
        kind = cmd.kind
        kind = choice(kind, "kind", NOTE_KINDS)
        self._allowed(ctx, "psychotherapy_note" if kind == "psychotherapy" else "progress_note")
        return self._trigger(
            self.NoteAdded,
            ctx,
            cmd.effective_at,
            note_id=new_id(),
            kind=kind,
            modality=choice(cmd.modality, "modality", MODALITIES),
            text=require_text(cmd.text, "text", "The note text"),
        )

    def record_education(self, ctx: CommandContext, cmd: RecordEducation) -> str:
        """The patient was taught about a topic or a medication."""
        self._allowed(ctx, "education")
        return self._trigger(
            self.EducationProvided,
            ctx,
            cmd.effective_at,
            education_id=new_id(),
            topic=require_text(cmd.topic, "topic", "A topic"),
            order_id=self._known_order(cmd.order_id),
            materials=optional_text(cmd.materials, "materials"),
        )

    def schedule_follow_up(self, ctx: CommandContext, cmd: ScheduleFollowUp) -> str:
        """A check-in due by a time; it shows as overdue on the dashboard after that."""
        self._allowed(ctx, "follow_up")
        due = future_due_time(ctx, cmd.due_at)
        return self._trigger(
            self.FollowUpScheduled,
            ctx,
            effective_time(ctx, cmd.effective_at),
            follow_up_id=new_id(),
            due_at=due,
            purpose=require_text(cmd.purpose, "purpose", "A purpose"),
        )

    def complete_follow_up(self, ctx: CommandContext, cmd: CompleteFollowUp) -> str:
        """A scheduled check-in took place."""
        self._allowed(ctx, "follow_up")
        follow_up_id, follow_up = self._existing(
            self.plan.follow_ups, cmd.follow_up_id, "follow_up_id", "follow-up"
        )
        if follow_up.status != "scheduled":
            raise InvalidInputError("That follow-up was completed already.", "follow_up_id")
        return self._trigger(
            self.FollowUpCompleted,
            ctx,
            cmd.effective_at,
            follow_up_id=follow_up_id,
            outcome=require_text(cmd.outcome, "outcome", "An outcome"),
        )

    def review_plan(self, ctx: CommandContext, cmd: ReviewPlan) -> str:
        """A review of the whole plan, e.g. a pharmacist's medication review."""
        self._allowed(ctx, "plan_review")
        return self._trigger(
            self.PlanReviewed,
            ctx,
            effective_time(ctx, cmd.effective_at),
            review_id=new_id(),
            outcome=require_text(cmd.outcome, "outcome", "An outcome"),
            summary=optional_text(cmd.summary, "summary"),
        )

    def record_lab_result(self, ctx: CommandContext, cmd: RecordLabResult) -> str:
        """A lab value or measurement the monitoring rules read."""
        value = cmd.value
        self._allowed(ctx, "lab_result")
        if value is not None:
            value = plausible_lab_value(
                finite_number(value, "value", "A lab value must be a number."), "value"
            )
        return self._trigger(
            self.LabResultRecorded,
            ctx,
            cmd.effective_at,
            lab_id=new_id(),
            test=require_text(cmd.test, "test", "The test"),
            value=None if value is None else float(value),
            unit=optional_text(cmd.unit, "unit"),
        )

    def record_fact(self, ctx: CommandContext, cmd: RecordFact) -> str:
        """A clinical fact (smoking status, metaboliser status, alcohol use ...). A fact the
        rules read takes only its allowed values, common wordings turned into them ("Poor
        metabolizer" -> poor), under its canonical name; a free fact is kept as typed."""
        self._allowed(ctx, "clinical_fact")
        name = require_text(cmd.fact, "fact", "The fact")
        text = require_text(cmd.value, "value", "The value")
        spec = fact_spec(name)
        if spec is not None:
            # A value outside the set would match no rule and pass as safe.
            canonical = spec.value_of(text)
            if canonical is None:
                raise InvalidInputError(refusal(spec, text), "value")
            name, text = spec.name, canonical
        return self._trigger(
            self.ClinicalFactRecorded, ctx, cmd.effective_at, fact=name, value=text
        )
