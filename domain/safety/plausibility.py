"""Physically implausible doses: refused before they are stored, not alerted on.

"Sertraline 50000 mg" is a slip of the keyboard (50 mg, or the wrong unit), not a dose
anyone means; stored, it would sit in the record and every view of it. A dose whose daily
amount (or single amount) is more than ``IMPLAUSIBLE_FACTOR`` times the most generous
maximum the pack holds for that drug and route (any formulation, inpatient figure,
indication, or an adjustment that raises it) is refused with a message naming the
figures. A per-kg maximum is taken at ``REFERENCE_WEIGHT_KG``. A drug without a maximum, a
dose in a unit that is not a mass, or a combination whose share cannot be worked out is
left to the alerts (which say the dose was not checked). A drug may also have an absolute
ceiling in the pack (``ceilings``: lithium, which has no maximum, and valproate, whose
per-kg maximum at a heavy weight times ten is no guard): a dose above it is refused too,
and the lower of the two figures applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from domain.safety.context import DoseStep
from domain.safety.dose_limit_rules import DoseLimit
from domain.safety.frequency import FrequencyError, daily_mg, mg_per_unit
from domain.safety.identity import Identity
from domain.safety.plan_view import COUNT_UNIT
from domain.safety.wording import mg

IMPLAUSIBLE_FACTOR = 10.0
REFERENCE_WEIGHT_KG = 150.0
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def most_generous(limit: DoseLimit) -> float:
    """The highest daily maximum the rule can allow anyone, in mg/day."""
    figures = [limit.max_per_day, limit.inpatient_max_per_day or 0.0]
    figures += [f.daily(inpatient=True) for f in limit.forms.figures.values()]
    figures += [e.max_per_day for e in limit.indications]
    figures += [a.value for a in limit.adjustments if a.mode == "replace"]
    highest = max(figures)
    for adjustment in limit.adjustments:
        if adjustment.mode == "factor" and adjustment.value > 1:
            highest *= adjustment.value
    if limit.per_kg:
        highest *= REFERENCE_WEIGHT_KG
        if limit.ceiling_mg_per_day is not None:
            highest = min(highest, limit.ceiling_mg_per_day)
    return highest


def _ceiling(limits: tuple[DoseLimit, ...], drug: str, route: str) -> float | None:
    ceilings = [
        most_generous(limit)
        for limit in limits
        if limit.drug == drug and (not limit.routes or route in limit.routes)
    ]
    return max(ceilings) if ceilings else None


def _daily(single_mg: float, frequency: str) -> float:
    try:
        return daily_mg(DoseStep(_EPOCH, single_mg, "mg", frequency)) or 0.0
    except FrequencyError:
        return 0.0


def _readings(identity: Identity, amount: float, unit: str) -> list[tuple[str, float]]:
    """(which ingredient, mg a dose) for every reading of the dose that must be
    plausible: each ingredient's share (from its strength, or the smallest marketed one),
    or, for a combination dosed by mass, the amount as the mg of any one ingredient."""
    per_unit = mg_per_unit(unit)
    if len(identity.parts) == 1:
        known = identity.parts[0].info is not None and per_unit is not None
        return [("", amount * (per_unit or 1.0))] if known else []
    if identity.conflict:
        return []
    if unit == COUNT_UNIT:
        return [
            (p.info.display, amount * strength)
            for p in identity.parts
            if p.info is not None
            and (strength := p.strength_mg or p.smallest_strength_mg) is not None
        ]
    return [] if per_unit is None else [("*", amount * per_unit)]


def implausible_dose(
    identity: Identity,
    limits: tuple[DoseLimit, ...],
    route: str,
    amount: float,
    unit: str,
    frequency: str,
    ceilings: Mapping[str, tuple[float, str]] | None = None,
    mg_per_ml: float | None = None,
) -> str | None:
    """Why the dose cannot be meant, in a clinician's words; None if it is plausible.

    A combination dosed by mass ("Symbyax 30 mg") is refused only when the amount is
    implausible whichever ingredient it names: above ten times the sum of their maxima.
    ``ceilings`` maps a drug to an absolute refusal threshold in mg/day and its basis.
    """
    ceilings = ceilings or {}
    mg_per_ml = mg_per_ml or (identity.parts[0].mg_per_ml if len(identity.parts) == 1 else None)
    if mg_per_ml is not None and unit.lower() == "ml":  # a liquid of stated concentration
        amount, unit = amount * mg_per_ml, "mg"
    known = [p.info for p in identity.parts if p.info is not None]
    for what, single in _readings(identity, amount, unit):
        if what == "*":
            found = [_ceiling(limits, info.name, route) for info in known]
            if len(known) < len(identity.parts) or any(c is None for c in found):
                continue  # an ingredient without a maximum could be the one the amount names
            ceiling = sum(c for c in found if c is not None)
            subject, basis = "of the combination", "the sum of its ingredients' highest maxima"
        else:
            info = known[0] if not what else next(i for i in known if i.display == what)
            subject = f"of {info.display}" if len(identity.parts) == 1 else f"of its {what}"
            absolute = ceilings.get(info.name)
            daily = _daily(single, frequency)
            if absolute is not None and max(single, daily) > absolute[0]:
                return (
                    f"{mg(amount)} {unit} {frequency} is {mg(single)} mg {subject} a dose "
                    f"({mg(daily)} mg/day), more than {mg(absolute[0])} mg/day, "
                    f"{absolute[1]}: it cannot be a real dose. Check the amount and its unit."
                )
            found_one = _ceiling(limits, info.name, route)
            if found_one is None:
                continue
            ceiling = found_one
            basis = "the highest maximum CareLog knows for it"
        daily = _daily(single, frequency)
        if max(single, daily) > IMPLAUSIBLE_FACTOR * ceiling:
            return (
                f"{mg(amount)} {unit} {frequency} is {mg(single)} mg {subject} a dose "
                f"({mg(daily)} mg/day), more than {mg(IMPLAUSIBLE_FACTOR)} times {basis} "
                f"({mg(ceiling)} mg/day): it cannot be a real dose. Check the amount and its "
                "unit."
            )
    return None
