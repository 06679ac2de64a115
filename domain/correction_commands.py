"""Corrections: an author corrects fields of an earlier entry; the original stays in the
log, and each corrected value passes the checks the original did.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.clinical_vocabulary import MODALITIES, SEVERITIES
from domain.command_context import (
    CommandContext,
    bounded_text,
    check_due,
    choice,
    finite_number,
    optional_text,
    parse_time,
    plausible_lab_value,
    require_text,
    text_list,
)
from domain.commands import CorrectEntry
from domain.dose import Dose, parse_frequency, parse_route
from domain.errors import InvalidInputError, NotFoundError, NotPermittedError
from domain.pharmacogenomic_commands import EVENT as PGX_EVENT
from domain.pharmacogenomic_commands import check_corrected, check_correction
from domain.plan import CORRECTABLE_FIELDS
from domain.record_checks import RecordCommandsBase, iso_date
from domain.safety.fact_vocabulary import fact_spec, refusal
from domain.scoring import score


class CorrectionCommands(RecordCommandsBase):
    """The command that corrects an earlier entry."""

    def correct_entry(self, ctx: CommandContext, cmd: CorrectEntry) -> str:
        """Correct fields of an earlier entry; only its author may, and the original stays."""
        fields = cmd.fields
        self._allowed(ctx, "correction")
        source = self.plan.sources.get(cmd.event_id) if isinstance(cmd.event_id, str) else None
        if source is None:
            raise NotFoundError("There is no correctable entry with that id.", "event_id")
        if source.actor_id != ctx.actor.id:
            raise NotPermittedError("Only the author of an entry may correct it.")
        if not isinstance(fields, dict) or not fields:
            raise InvalidInputError("Name at least one field to correct.", "fields")
        allowed = CORRECTABLE_FIELDS.get(source.type, frozenset())
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise InvalidInputError(
                f"{', '.join(unknown)} cannot be corrected on a {source.type}"
                f" (correctable: {', '.join(sorted(allowed)) or 'nothing'}).",
                "fields",
            )
        context: dict[str, Any] = source.as_dict()  # what a field's check needs to know
        if source.type == "AssessmentRecorded":
            found = [a for a in self.plan.assessments if a.event_id == cmd.event_id]
            context["instrument"] = found[0].instrument if found else None
        if source.type == PGX_EVENT:  # a report date is checked against the birth date
            context["plan"] = self.plan
        checked = {name: _check_field(context, name, value, ctx) for name, value in fields.items()}
        moved, born = checked.get("effective_at"), self.plan.patient.birth_date
        if (
            isinstance(moved, datetime)
            and isinstance(born, str)
            and moved.date().isoformat() < born
        ):
            raise InvalidInputError(
                "effective_at is before the patient's birth date.", "fields.effective_at"
            )
        if source.type == PGX_EVENT:
            check_correction(self.plan, source.key, checked)
        reborn, first = checked.get("birth_date"), self.plan.earliest_entry_at
        if isinstance(reborn, str) and first is not None and first.date().isoformat() < reborn:
            raise InvalidInputError(
                f"birth_date is after the patient's earliest entry ({first.date().isoformat()}).",
                "fields.birth_date",
            )
        return self._trigger(
            self.EntryCorrected,
            ctx,
            corrected_event_id=cmd.event_id,
            fields=checked,
            reason=require_text(cmd.reason, "reason", "A reason for the correction"),
        )


def _check_field(source: dict[str, Any], name: str, value: object, ctx: CommandContext) -> Any:
    """A corrected value passes the same checks as the original entry did."""
    field_name = f"fields.{name}"
    try:
        if source["type"] == PGX_EVENT and name != "effective_at":
            return check_corrected(name, value, ctx, source.get("plan"))
        if name == "dose":
            return Dose.parse(value).as_dict()
        if name == "frequency":
            return parse_frequency(value)
        if name == "route":
            return parse_route(value)
        if name == "effective_at":
            when = parse_time(value, name)
            if when > ctx.now:
                raise InvalidInputError("effective_at is in the future.", name)
            return when
        if name == "due_at":
            due = parse_time(value, name)
            check_due(due.date(), name)
            return due
        if name == "due_date":
            day = iso_date(value, name)
            check_due(date.fromisoformat(day), name)
            return day
        if name == "item_scores":
            return list(score(source.get("instrument") or "", value).item_scores)
        if name == "severity":
            return choice(value, name, SEVERITIES)
        if name == "modality":
            return choice(value, name, MODALITIES)
        if name in {"birth_date", "due_date", "period_start", "period_end"}:
            return iso_date(value, name)
        if name in {"allergies", "diagnoses"}:
            return text_list(value, name)
        if name in {"doses_taken", "doses_missed"}:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError("Give a whole number of doses, 0 or more.", name)
            return value
        if name == "value" and source["type"] == "ClinicalFactRecorded":
            spec = fact_spec(str(source.get("key") or ""))
            text = require_text(value, name, "The value")
            canonical = spec.value_of(text) if spec else text
            if spec is not None and canonical is None:
                raise InvalidInputError(refusal(spec, text), name)
            return canonical
        if name == "value" and source["type"] == "LabResultRecorded":
            if value is not None and not isinstance(value, (int, float)):
                raise InvalidInputError("A lab value must be a number.", name)
            if value is not None:
                plausible_lab_value(
                    finite_number(value, name, "A lab value must be a number."), name
                )
            return value
        if name == "order_id":
            return value
        if name in {
            "text",
            "name",
            "effect",
            "reason",
            "outcome",
            "purpose",
            "topic",
            "description",
            "indication",
            "value",
        }:
            return bounded_text(require_text(value, name, f"The {name}"), name)
        return bounded_text(optional_text(value, name), name)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, field_name) from None
