"""The synthetic patients tests and benchmarks (``bench/``) start from: registered by a
clinician, most of them on sertraline 50 mg once daily for depression."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose

SERTRALINE = c.Prescribe(
    drug="sertraline",
    dose=Dose(50, "mg"),
    frequency="once daily",
    route="oral",
    indication="depression",
)
"""The order most synthetic patients are on (``dataclasses.replace`` for a variant)."""


def register(
    carelog: Any, ctx: CommandContext, external_id: str, name: str, birth_date: str = "1980-01-01"
) -> str:
    """Register a patient (``ctx``'s clinician joins the care team); returns its id."""
    return str(
        carelog.commands.register_patient(
            ctx,
            c.RegisterPatient(
                external_id=external_id, name=name, birth_date=date.fromisoformat(birth_date)
            ),
        ).patient_id
    )


def prescribe(carelog: Any, ctx: CommandContext, patient_id: str, **changes: Any) -> str:
    """Put the patient on ``SERTRALINE`` (with ``changes`` to its fields); returns the
    order's id."""
    order = replace(SERTRALINE, **changes) if changes else SERTRALINE
    return str(carelog.commands.execute(ctx, patient_id, order).ids["order_id"])
