"""The commands of the problem list and of the person: conditions recorded and resolved,
sex at birth, pregnancy and lactation status. Each checks its input, then records one
event; the safety rules read what they record (``domain/safety/condition_rules.py``).

A mixin of ``PatientRecord``, like the clinical areas (``domain/patient_commands.py``).
None of these writes is ever refused for what the rules find: it records what is true of
the patient, and a contraindication it reveals against an active drug is raised as an alert.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.command_context import (
    CommandContext,
    choice,
    effective_time,
    new_id,
    require_id,
    require_text,
)
from domain.commands import (
    RecordCondition,
    RecordPregnancyStatus,
    RecordSexAtBirth,
    ResolveCondition,
)
from domain.errors import InvalidInputError, NotFoundError
from domain.problem_list import (
    DIAGNOSIS_PREFIX,
    ICD10_CM,
    PREGNANCY_STATUSES,
    SEXES_AT_BIRTH,
    VERIFICATION_STATUSES,
    active_conditions,
    normalise_code,
)
from domain.record_checks import RecordCommandsBase

LONGEST_PREGNANCY = timedelta(weeks=44)
"""An expected delivery date further than this after the status date cannot be right."""


class ConditionCommands(RecordCommandsBase):
    """Commands that record the problem list and the person."""

    def record_condition(self, ctx: CommandContext, cmd: RecordCondition) -> str:
        """Put a condition on the problem list, ICD-10-CM coded."""
        verification_status = cmd.verification_status
        self._allowed(ctx, "condition")
        text = require_text(cmd.code, "code", "An ICD-10-CM code")
        normal = normalise_code(text)
        if not ICD10_CM.match(normal):
            raise InvalidInputError(
                f"{text!r} is not an ICD-10-CM code like F32.1 or G40.909.", "code"
            )
        for listed in active_conditions(self.plan):
            if normalise_code(listed["code"]) == normal and listed["source"] == "recorded":
                raise InvalidInputError(
                    f"{normal} is on the problem list already (condition"
                    f" {listed['condition_id']}).",
                    "code",
                )
        onset = (
            None if cmd.onset_date is None else self._past_date(cmd.onset_date, "onset_date", ctx)
        )
        return self._trigger(
            self.ConditionRecorded,
            ctx,
            effective_time(ctx, cmd.effective_at),
            condition_id=new_id(),
            code=normal,
            display=(
                f"ICD-10-CM {normal}"
                if cmd.display is None
                else require_text(cmd.display, "display", "The condition's name")
            ),
            onset_date=onset.isoformat() if onset else None,
            verification_status=choice(
                verification_status, "verification_status", VERIFICATION_STATUSES
            ),
        )

    def resolve_condition(self, ctx: CommandContext, cmd: ResolveCondition) -> str:
        """Take a condition off the problem list (resolved, in remission, entered in
        error), with the reason; its rules stop firing."""
        condition_id = cmd.condition_id
        reason = cmd.reason
        effective_at = cmd.effective_at
        self._allowed(ctx, "condition_resolution")
        condition_id = require_id(condition_id, "condition_id", "A condition id")
        recorded = self.plan.conditions.get(condition_id)
        listed = {c["condition_id"]: c for c in active_conditions(self.plan)}
        if condition_id not in listed:
            code = condition_id.removeprefix(DIAGNOSIS_PREFIX)
            cleared = condition_id.startswith(DIAGNOSIS_PREFIX) and (
                code in self.plan.resolved_diagnoses
            )
            if recorded is None and not cleared:
                raise NotFoundError(
                    f"There is no condition {condition_id} on the problem list.", "condition_id"
                )
            raise InvalidInputError("That condition was resolved already.", "condition_id")
        reason = require_text(reason, "reason", "A reason for resolving the condition")
        when = effective_time(ctx, effective_at)
        if recorded is not None and when < recorded.effective_at:
            raise InvalidInputError(
                "effective_at is before the condition was recorded"
                f" ({recorded.effective_at.isoformat()}).",
                "effective_at",
            )
        resolved = (
            when.date()
            if cmd.resolved_date is None
            else self._past_date(cmd.resolved_date, "resolved_date", ctx)
        )
        onset = listed[condition_id]["onset_date"]
        if onset and resolved < date.fromisoformat(onset):
            raise InvalidInputError(
                f"resolved_date is before the condition's onset ({onset}).", "resolved_date"
            )
        return self._trigger(
            self.ConditionResolved,
            ctx,
            when,
            condition_id=condition_id,
            resolved_date=resolved.isoformat(),
            reason=reason,
        )

    def record_sex_at_birth(self, ctx: CommandContext, cmd: RecordSexAtBirth) -> str:
        """The sex assigned at birth, which label rules read (pregnancy prevention)."""
        self._allowed(ctx, "sex_at_birth")
        return self._trigger(
            self.SexAtBirthRecorded,
            ctx,
            effective_time(ctx, cmd.effective_at),
            sex_at_birth=choice(cmd.sex_at_birth, "sex_at_birth", SEXES_AT_BIRTH),
        )

    def record_pregnancy_status(self, ctx: CommandContext, cmd: RecordPregnancyStatus) -> str:
        """Pregnant, not pregnant, lactating or postpartum, as of a date; a pregnancy may
        give its expected delivery date."""
        status = cmd.status
        self._allowed(ctx, "pregnancy_status")
        status = choice(status, "status", PREGNANCY_STATUSES)
        when = effective_time(ctx, cmd.effective_at)
        on = when.date() if cmd.as_of is None else self._past_date(cmd.as_of, "as_of", ctx)
        due: str | None = None
        if cmd.expected_delivery_date is not None:
            if status != "pregnant":
                raise InvalidInputError(
                    "An expected delivery date goes with the status pregnant.",
                    "expected_delivery_date",
                )
            try:
                edd = date.fromisoformat(cmd.expected_delivery_date)
            except (TypeError, ValueError):
                raise InvalidInputError(
                    "Give a date like 2026-09-01.", "expected_delivery_date"
                ) from None
            # Compared as day counts, never as date +/- timedelta, so a date near
            # 0001-01-01 or 9999-12-31 is a field error rather than an OverflowError.
            days_after = edd.toordinal() - on.toordinal()
            if not -timedelta(weeks=4).days <= days_after <= LONGEST_PREGNANCY.days:
                raise InvalidInputError(
                    "The expected delivery date must fall between 4 weeks before and 44"
                    " weeks after as_of.",
                    "expected_delivery_date",
                )
            due = edd.isoformat()
        return self._trigger(
            self.PregnancyStatusRecorded,
            ctx,
            when,
            status=status,
            as_of=on.isoformat(),
            expected_delivery_date=due,
        )
