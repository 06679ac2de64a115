"""Commands on the medication plan and what is reported about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.commands.late_entry import LateEntry
from domain.dose import Dose


@dataclass(frozen=True)
class Prescribe(LateEntry):
    """A new medication order. ``drug`` is the name as typed (CareLog resolves it against
    the rule pack); ``rxnorm`` the product's code when the prescriber gives one;
    ``continuing`` ({since, source}) states that it continues established therapy."""

    drug: str
    dose: Dose
    frequency: str
    route: str
    indication: str
    instructions: str | None = None
    continuing: Mapping[str, date | str] | None = None
    rxnorm: str | None = None


@dataclass(frozen=True)
class ChangeDose(LateEntry):
    """A new dose (and optionally frequency) for an active order, with the reason."""

    order_id: str
    dose: Dose
    reason: str
    frequency: str | None = None


@dataclass(frozen=True)
class Discontinue(LateEntry):
    """Stop an active order, with the taper schedule when the drug needs one."""

    order_id: str
    reason: str
    taper: str | None = None


@dataclass(frozen=True)
class ReportSideEffect(LateEntry):
    """A side effect seen or reported, with its severity."""

    effect: str
    severity: str
    order_id: str | None = None
    onset: str | None = None
    action_taken: str | None = None


@dataclass(frozen=True)
class RecordAdherence(LateEntry):
    """Doses taken and missed over a period, for one order."""

    order_id: str
    doses_taken: int
    doses_missed: int
    period_start: date
    period_end: date
