"""The commands most tests write a patient's history with, built in one place: a
registration, and the prescription a test needs when the drug is beside the point
(sertraline 50 mg once daily by mouth, for depression) or one like it.

Each builder takes the test's own values where they matter to it (a medical record
number, a birth date, a drug, the time it took effect), so the history a test writes is
the one it wrote before these existed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog


def registration(
    mrn: str, name: str = "Test Patient", birth_date: str = "1980-01-01", **extra: Any
) -> c.RegisterPatient:
    """A patient's registration, born on ``birth_date`` (ISO text)."""
    return c.RegisterPatient(
        external_id=mrn, name=name, birth_date=date.fromisoformat(birth_date), **extra
    )


def register(carelog: CareLog, ctx: CommandContext, mrn: str, *args: Any, **kwargs: Any) -> str:
    """Register a patient (``registration``'s fields) as ``ctx``'s clinician; the id."""
    return carelog.commands.register_patient(ctx, registration(mrn, *args, **kwargs)).patient_id


def prescription(
    drug: str = "sertraline",
    amount: float = 50,
    frequency: str = "once daily",
    indication: str = "depression",
    **extra: Any,
) -> c.Prescribe:
    """An oral prescription, in milligrams (``extra``: ``effective_at`` and the like)."""
    return c.Prescribe(
        drug=drug,
        dose=Dose(amount, "mg"),
        frequency=frequency,
        route="oral",
        indication=indication,
        **extra,
    )


def dose_change(
    order_id: str, amount: float, reason: str = "titration", **extra: Any
) -> c.ChangeDose:
    """A change of an order's dose, in milligrams."""
    return c.ChangeDose(order_id=order_id, dose=Dose(amount, "mg"), reason=reason, **extra)


SERTRALINE = prescription()
"""The order most synthetic patients are on (``dataclasses.replace`` for a variant)."""


def prescribe(carelog: CareLog, ctx: CommandContext, patient_id: str, **changes: Any) -> str:
    """Put the patient on ``SERTRALINE`` (with ``changes`` to its fields); the order's id."""
    order = replace(SERTRALINE, **changes) if changes else SERTRALINE
    return str(carelog.commands.execute(ctx, patient_id, order).ids["order_id"])
