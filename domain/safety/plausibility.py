"""Physically implausible doses: refused before they are stored, not alerted on.

"Sertraline 50000 mg" is a slip of the keyboard (50 mg, or the wrong unit), not a dose
anyone means; stored, it would sit in the record and every view of it. A dose whose daily
amount (or single amount) is more than ``IMPLAUSIBLE_FACTOR`` times the most generous
maximum the pack holds for that drug and route (any formulation, inpatient figure,
indication, or an adjustment that raises it) is refused with a message naming the
figures. A per-kg maximum is taken at ``REFERENCE_WEIGHT_KG``. A drug without a maximum, a
dose in a unit that is not a mass, or a combination whose share cannot be worked out is
left to the alerts (which say the dose was not checked).
"""

from __future__ import annotations

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


def implausible_dose(
    identity: Identity,
    limits: tuple[DoseLimit, ...],
    route: str,
    amount: float,
    unit: str,
    frequency: str,
) -> str | None:
    """Why the dose cannot be meant, in a clinician's words; None if it is plausible."""
    for part in identity.parts:
        if part.info is None:
            continue
        if len(identity.parts) > 1:
            if unit != COUNT_UNIT or part.strength_mg is None or identity.share_problem():
                continue
            single, step_unit = amount * part.strength_mg, "mg"
        elif mg_per_unit(unit) is None:
            continue
        else:
            single, step_unit = amount * (mg_per_unit(unit) or 1.0), "mg"
        ceilings = [
            most_generous(limit)
            for limit in limits
            if limit.drug == part.info.name and (not limit.routes or route in limit.routes)
        ]
        if not ceilings:
            continue
        ceiling = max(ceilings)
        try:
            daily = daily_mg(DoseStep(_EPOCH, single, step_unit, frequency)) or 0.0
        except FrequencyError:
            daily = 0.0
        if max(single, daily) > IMPLAUSIBLE_FACTOR * ceiling:
            what = part.info.display if len(identity.parts) == 1 else f"its {part.info.display}"
            return (
                f"{mg(amount)} {unit} {frequency} is {mg(single)} mg of {what} a dose "
                f"({mg(daily)} mg/day), more than {mg(IMPLAUSIBLE_FACTOR)} times the highest "
                f"maximum CareLog knows for it ({mg(ceiling)} mg/day): it cannot be a real "
                "dose. Check the amount and its unit."
            )
    return None
