"""Recording a pharmacogenomic result: the gene, the diplotype and/or phenotype as the
lab reported them, the lab and the report date.

A result is what the lab said, so it is kept as said: a wording or an allele CareLog
cannot read is recorded all the same, and shown as "not interpretable" with the reason
(``domain/safety/genotypes.py``); CareLog's reading is worked out when the record is
read, never stored, so a table corrected later reads old results anew. Only the gene is
put in its canonical spelling where CareLog knows it ("HLA-B*15:02" -> "HLA-B").

A mixin of ``PatientRecord``, like ``ConditionCommands``. The write is never refused for
what the rules find: an active drug the result affects is alerted on.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.command_context import (
    CommandContext,
    effective_time,
    new_id,
    require_text,
)
from domain.commands import RecordPharmacogenomicResult
from domain.errors import InvalidInputError
from domain.record_checks import RecordCommandsBase, parse_day, past_date
from domain.safety.genotypes import canonical_gene

EVENT = "PharmacogenomicResultRecorded"
CORRECTABLE = frozenset({"diplotype", "phenotype", "lab", "report_date", "effective_at"})
"""The gene is the result's identity: a result for the wrong gene is corrected by
recording the right one (and correcting the wrong one's phenotype and diplotype away)."""
LONGEST = 200

if TYPE_CHECKING:
    from domain.plan import PlanState


def _reported(value: Any, field_name: str) -> str | None:
    """A reported diplotype or phenotype: text, or nothing (None or blank)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError("Give text here, as the report states it.", field_name)
    if len(value.strip()) > LONGEST:
        raise InvalidInputError(f"At most {LONGEST} characters.", field_name)
    return value.strip() or None


def checked_report_date(value: object, field_name: str, today: date, born: str | None) -> str:
    """The report's date: a calendar date, not after today nor before the birth date."""
    return past_date(parse_day(value, field_name), field_name, today, born).isoformat()


def not_before_report(known: date, reported_on: str, field_name: str) -> None:
    """A result cannot be known (in effect) before the lab reported it."""
    if known < date.fromisoformat(reported_on):
        raise InvalidInputError(
            f"{field_name} is before the report date ({reported_on}): a result is known only "
            "from its report.",
            field_name,
        )


def check_correction(plan: PlanState, result_id: str, fields: dict[str, Any]) -> None:
    """The corrected result still states something and is not known before its report."""
    result = plan.pharmacogenomics.get(result_id)
    if result is None:
        return
    merged = {**result.as_dict(), **fields}
    if merged.get("diplotype") is None and merged.get("phenotype") is None:
        raise InvalidInputError(
            "A result keeps a diplotype or a phenotype: record the right result instead of "
            "correcting both away.",
            "fields",
        )
    known = merged["effective_at"]
    not_before_report(known.date(), merged["report_date"], "fields.effective_at")


def check_corrected(name: str, value: Any, ctx: CommandContext, plan: PlanState | None) -> Any:
    """A corrected field of a result passes the checks the original did."""
    if name in ("diplotype", "phenotype"):
        return _reported(value, name)
    if name == "lab":
        return require_text(value, name, "The laboratory")
    born = plan.patient.birth_date if plan is not None else None
    return checked_report_date(value, name, ctx.now.date(), born)


class PharmacogenomicCommands(RecordCommandsBase):
    """The command that records a pharmacogenomic result."""

    def record_pharmacogenomic_result(
        self, ctx: CommandContext, cmd: RecordPharmacogenomicResult
    ) -> str:
        """Record a result as reported; at least a diplotype or a phenotype."""
        report_date = cmd.report_date
        self._allowed(ctx, "pharmacogenomic_result")
        typed = require_text(cmd.gene, "gene", "The gene (CYP2D6, CYP2C19, HLA-B, HLA-A, POLG ...)")
        if len(typed) > LONGEST:
            raise InvalidInputError(f"At most {LONGEST} characters.", "gene")
        reported_diplotype = _reported(cmd.diplotype, "diplotype")
        reported_phenotype = _reported(cmd.phenotype, "phenotype")
        if reported_diplotype is None and reported_phenotype is None:
            raise InvalidInputError(
                "Give the diplotype, the phenotype or both, as the report states them.",
                "diplotype",
            )
        reported_on = checked_report_date(
            report_date, "report_date", ctx.now.date(), self.plan.patient.birth_date
        )
        when = effective_time(ctx, cmd.effective_at)
        not_before_report(when.date(), reported_on, "effective_at")
        return self._trigger(
            self.PharmacogenomicResultRecorded,
            ctx,
            when,
            result_id=new_id(),
            gene=canonical_gene(typed) or typed,
            diplotype=reported_diplotype,
            phenotype=reported_phenotype,
            lab=require_text(cmd.lab, "lab", "The laboratory"),
            report_date=reported_on,
        )
