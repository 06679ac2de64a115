"""A discontinuation's taper as sequenced FHIR ``Dosage`` steps with their bounds.

CareLog records the taper as the prescriber wrote it ("50 mg for 2 weeks, then 25 mg for 1
week, then stop"). Where every step reads as *dose for duration* (and the text ends with
stop, or with its last such step), the steps become dosages in sequence, each with its
``timing.repeat.boundsPeriod`` from the discontinuation on, and the statement's period ends
when the taper does. A text that does not read that way (a percentage, "halve", a dose
without a duration) stays text: a guessed step would tell a receiver a dose nobody ordered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.plan_entities import Order
from services.interop.fhir.dosage import dosage
from services.interop.fhir.references import instant

_STEP = re.compile(
    r"^(?:then\s+)?(\d+(?:\.\d+)?)\s*(mg|mcg|g|ml)\b[^0-9]*?\bfor\s+(\d+)\s*"
    r"(days?|d|weeks?|wks?|w)$"
)
_STOP = re.compile(r"^(?:then\s+)?(stop|discontinue|off)\b.*$")
_UNITS = {"mg": "mg", "mcg": "mcg", "g": "g", "ml": "mL"}


@dataclass(frozen=True)
class TaperStep:
    amount: float
    unit: str
    days: int


def read_taper(text: str | None) -> list[TaperStep] | None:
    """The steps of a taper text, or None when it is not *dose for duration* throughout."""
    if not text:
        return None
    parts = [p.strip() for p in re.split(r"[,;]|\bthen\b", text.lower()) if p.strip()]
    steps: list[TaperStep] = []
    for i, part in enumerate(parts):
        if _STOP.match(part) and i == len(parts) - 1 and steps:
            break
        found = _STEP.match(part)
        if found is None:
            return None
        amount, unit, count, span = found.groups()
        days = int(count) * (7 if span.startswith("w") else 1)
        if days <= 0:
            return None
        steps.append(TaperStep(float(amount), _UNITS[unit], days))
    return steps or None


def taper_dosages(order: Order, start: datetime) -> tuple[list[dict[str, Any]], datetime] | None:
    """The taper's dosages (sequence 2 on, after the dose it tapers from) and its end."""
    steps = read_taper(order.taper)
    if steps is None:
        return None
    latest = order.current
    out = []
    at = start
    for n, step in enumerate(steps, start=2):
        end = at + timedelta(days=step.days)
        item = dosage(
            {"amount": step.amount, "unit": step.unit},
            latest.frequency,
            order.route,
            order.instructions,
        )
        item["sequence"] = n
        item["text"] = f"Taper step {n - 1}: {item['text']} for {step.days} days"
        item["timing"].setdefault("repeat", {})["boundsPeriod"] = {
            "start": instant(at),
            "end": instant(end),
        }
        out.append(item)
        at = end
    return out, at
