"""Commands on the medication plan and what is reported about it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from domain.dose import Dose


@dataclass(frozen=True)
class Prescribe:
    """A new medication order. ``drug`` is the name as typed (CareLog resolves it against
    the rule pack); ``rxnorm`` the product's code when the prescriber gives one;
    ``continuing`` ({since, source}) states that it continues established therapy."""

    drug: str
    dose: Dose
    frequency: str
    route: str
    indication: str
    instructions: str | None = None
    effective_at: datetime | None = None
    continuing: Mapping[str, date | str] | None = None
    rxnorm: str | None = None


@dataclass(frozen=True)
class ChangeDose:
    """A new dose (and optionally frequency) for an active order, with the reason."""

    order_id: str
    dose: Dose
    reason: str
    frequency: str | None = None
    effective_at: datetime | None = None


@dataclass(frozen=True)
class Discontinue:
    """Stop an active order, with the taper schedule when the drug needs one."""

    order_id: str
    reason: str
    taper: str | None = None
    effective_at: datetime | None = None


@dataclass(frozen=True)
class ReportSideEffect:
    """A side effect seen or reported, with its severity."""

    effect: str
    severity: str
    order_id: str | None = None
    onset: str | None = None
    action_taken: str | None = None
    effective_at: datetime | None = None


@dataclass(frozen=True)
class RecordAdherence:
    """Doses taken and missed over a period, for one order."""

    order_id: str
    doses_taken: int
    doses_missed: int
    period_start: date
    period_end: date
    effective_at: datetime | None = None
