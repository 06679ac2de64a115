"""Medication orders (prescribe, change the dose, stop), and what is reported about them:
side effects and adherence.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.clinical_vocabulary import SEVERITIES
from domain.command_context import (
    CommandContext,
    choice,
    effective_time,
    new_id,
    optional_text,
    require_id,
    require_text,
)
from domain.commands import ChangeDose, Discontinue, Prescribe, RecordAdherence, ReportSideEffect
from domain.continuing import continuing_therapy
from domain.dose import parse_frequency, parse_route
from domain.errors import InvalidInputError
from domain.record_checks import RecordCommandsBase, clinical_day


class MedicationCommands(RecordCommandsBase):
    """Commands on the medication plan."""

    def prescribe(
        self, ctx: CommandContext, cmd: Prescribe, *, order_id: str, drug: Mapping[str, object]
    ) -> str:
        """A new medication order, by a prescriber on the care team; ``continuing`` states
        that it continues established therapy (since when, from where)."""
        continuing = cmd.continuing
        self._require_prescriber(ctx)
        order_id = require_id(order_id, "order_id", "An order id")
        if order_id in self.plan.orders:
            raise InvalidInputError(f"There is a medication order {order_id} already.", "order_id")
        if not isinstance(drug, Mapping):
            raise InvalidInputError("The drug must be given with its name.", "drug")
        require_text(drug.get("name"), "drug", "The drug name")
        return self._trigger(
            self.MedicationPrescribed,
            ctx,
            cmd.effective_at,
            order_id=order_id,
            drug=dict(drug),
            dose=cmd.dose.checked().as_dict(),
            frequency=parse_frequency(cmd.frequency),
            route=parse_route(cmd.route),
            indication=require_text(cmd.indication, "indication", "An indication"),
            instructions=optional_text(cmd.instructions, "instructions"),
            continuing=continuing_therapy(
                continuing,
                effective_time(ctx, cmd.effective_at),
                self.plan.patient.birth_date,
            ),
        )

    def change_dose(self, ctx: CommandContext, cmd: ChangeDose) -> str:
        """A new dose (and optionally frequency) for an active order, with the reason."""
        reason = cmd.reason
        order = self._order_to_change(ctx, cmd.order_id)
        new_dose = cmd.dose.checked().as_dict()
        current = order.steps[-1]
        new_frequency = (
            current.frequency if cmd.frequency is None else parse_frequency(cmd.frequency)
        )
        reason = require_text(reason, "reason", "A reason for the dose change")
        if new_dose == current.dose and new_frequency == current.frequency:
            raise InvalidInputError("That is the current dose and frequency already.", "dose")
        when = self._order_change_time(ctx, order, cmd.effective_at)
        return self._trigger(
            self.DoseChanged,
            ctx,
            when,
            order_id=cmd.order_id,
            dose=new_dose,
            frequency=new_frequency,
            reason=reason,
        )

    def discontinue(self, ctx: CommandContext, cmd: Discontinue) -> str:
        """Stop an active order, with the taper schedule when the drug needs one."""
        reason = cmd.reason
        order = self._order_to_change(ctx, cmd.order_id)
        reason = require_text(reason, "reason", "A reason for stopping")
        taper_text = optional_text(cmd.taper, "taper") or None
        when = self._order_change_time(ctx, order, cmd.effective_at)
        return self._trigger(
            self.MedicationDiscontinued,
            ctx,
            when,
            order_id=cmd.order_id,
            reason=reason,
            taper=taper_text,
        )

    def report_side_effect(self, ctx: CommandContext, cmd: ReportSideEffect) -> str:
        """A side effect seen or reported, with its severity."""
        self._allowed(ctx, "side_effect")
        return self._trigger(
            self.SideEffectReported,
            ctx,
            cmd.effective_at,
            side_effect_id=new_id(),
            order_id=self._known_order(cmd.order_id),
            effect=require_text(cmd.effect, "effect", "The side effect"),
            severity=choice(cmd.severity, "severity", SEVERITIES),
            onset=optional_text(cmd.onset, "onset") or None,
            action_taken=optional_text(cmd.action_taken, "action_taken"),
        )

    def record_adherence(self, ctx: CommandContext, cmd: RecordAdherence) -> str:
        """Doses taken and missed over a period, for one order."""
        self._allowed(ctx, "adherence")
        known = self._known_order(cmd.order_id)
        if known is None:
            raise InvalidInputError("Adherence is reported for an order.", "order_id")
        for name, value in (("doses_taken", cmd.doses_taken), ("doses_missed", cmd.doses_missed)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInputError("Give a whole number of doses, 0 or more.", name)
        start = clinical_day(cmd.period_start, "period_start")
        end = clinical_day(cmd.period_end, "period_end")
        if end < start:
            raise InvalidInputError("The period ends before it starts.", "period_end")
        return self._trigger(
            self.AdherenceReported,
            ctx,
            effective_time(ctx, cmd.effective_at),
            adherence_id=new_id(),
            order_id=known,
            doses_taken=cmd.doses_taken,
            doses_missed=cmd.doses_missed,
            period_start=start,
            period_end=end,
        )
