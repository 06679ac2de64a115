"""A dose step as FHIR ``Dosage``: the dose in ``doseAndRate``, the frequency as ``timing``.

The frequency is read with the same parser the safety rules use, so the timing a receiver
sees is the schedule the dose checks assumed; the prescriber's own words stay in
``timing.code.text`` and ``text``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.safety.frequency import FrequencyError, doses_per_day
from services.interop.fhir import vocabulary as v

UCUM_UNITS = {"mg": "mg", "mcg": "ug", "g": "g", "mL": "mL", "units": "[U]"}
_AS_NEEDED = re.compile(r"\b(as needed|as required|when required|if needed|prn)\b", re.I)


def dosage(
    dose: Mapping[str, Any], frequency: str, route: str, instructions: str | None = None
) -> dict[str, Any]:
    amount = float(dose["amount"])
    unit = str(dose["unit"])
    quantity: dict[str, Any] = {
        "value": int(amount) if amount.is_integer() else amount,
        "unit": unit,
    }
    if unit in UCUM_UNITS:
        quantity.update(system=v.UCUM, code=UCUM_UNITS[unit])
    result: dict[str, Any] = {
        "text": f"{quantity['value']} {unit} {frequency}, {route}",
        "timing": timing(frequency),
        "route": route_concept(route),
        "doseAndRate": [{"doseQuantity": quantity}],
    }
    if instructions:
        result["patientInstruction"] = instructions
    if _AS_NEEDED.search(frequency):
        result["asNeededBoolean"] = True
    return result


ROUTES = {
    "oral": ("26643006", "Oral route"),
    "by mouth": ("26643006", "Oral route"),
    "po": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "buccal": ("54471007", "Buccal route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "im": ("78421000", "Intramuscular route"),
    "intravenous": ("47625008", "Intravenous route"),
    "iv": ("47625008", "Intravenous route"),
    "subcutaneous": ("34206005", "Subcutaneous route"),
    "transdermal": ("45890007", "Transdermal route"),
    "topical": ("6064005", "Topical route"),
    "rectal": ("37161004", "Rectal route"),
    "nasal": ("46713006", "Nasal route"),
    "intranasal": ("46713006", "Nasal route"),
}
"""Routes as SNOMED CT (route of administration value, 284009009 hierarchy)."""


def route_concept(route: str) -> dict[str, Any]:
    """The route as written, SNOMED CT coded where the words name one route."""
    found = ROUTES.get(" ".join(route.lower().split()))
    if found is None:
        return {"text": route}
    code, display = found
    return v.concept(route, v.coding(v.SNOMED, code, display))


def timing(frequency: str) -> dict[str, Any]:
    """``repeat`` as n per day, or once every n days; text alone when neither fits."""
    result: dict[str, Any] = {"code": {"text": frequency}}
    try:
        per_day = doses_per_day(frequency)
    except FrequencyError:
        return result
    if per_day >= 1 and float(per_day).is_integer():
        result["repeat"] = {"frequency": int(per_day), "period": 1, "periodUnit": "d"}
    elif 0 < per_day < 1 and abs(1 / per_day - round(1 / per_day)) < 1e-9:
        result["repeat"] = {"frequency": 1, "period": round(1 / per_day), "periodUnit": "d"}
    return result
