"""The write path's refusal of physically implausible doses (see
``domain.safety.plausibility``): a prescription, a dose change or a corrected dose whose
amount is far beyond anything the drug is given at is refused with 422 on the dose amount,
and nothing is stored."""

from __future__ import annotations

from typing import Any

from domain.errors import InvalidInputError
from domain.patient_record import PatientRecord
from domain.plan_entities import DoseStep, Order

DOSE_EVENTS = {"MedicationPrescribed": "dose.amount", "DoseChanged": "dose.amount"}


def _changed_step(record: PatientRecord) -> tuple[Order, DoseStep, str] | None:
    """The order and dose step the pending write set, with the field to name on refusal."""
    event: Any = record.pending_events[-1]
    name = type(event).__name__
    plan = record.plan
    if name in DOSE_EVENTS:
        order = plan.orders.get(event.order_id)
        if order is None:
            return None
        step = next((s for s in order.steps if s.event_id == event.event_id), None)
        return (order, step, DOSE_EVENTS[name]) if step else None
    if name == "EntryCorrected" and {"dose", "frequency"} & set(event.fields):
        source = plan.sources.get(event.corrected_event_id)
        order = plan.orders.get(source.key) if source else None
        if order is None:
            return None
        step = next((s for s in order.steps if s.event_id == event.corrected_event_id), None)
        field = "fields.dose.amount" if "dose" in event.fields else "fields.frequency"
        return (order, step, field) if step else None
    return None


def _ceilings(pack: Any) -> dict[str, tuple[float, str]]:
    """The pack's absolute ceilings per drug (lithium, valproate), with their basis."""
    coverage = getattr(pack, "dose_coverage", None)
    if coverage is None:
        return {}
    return {
        drug: (guide.implausible_above, guide.implausible_basis)
        for drug, guide in coverage.guides.items()
        if guide.implausible_above is not None
    }


def refuse_implausible(pack: Any, record: PatientRecord) -> None:
    """Raise ``InvalidInputError`` when the dose just written cannot be a real one."""
    from domain.safety.plausibility import implausible_dose

    if pack is None or not record.pending_events:
        return
    found = _changed_step(record)
    if found is None:
        return
    order, step, field = found
    identity = pack.identify(order.drug.get("generic") or order.drug_name)
    why = implausible_dose(
        identity,
        pack.dose_limits,
        order.route,
        float(step.dose["amount"]),
        step.dose["unit"],
        step.frequency,
        ceilings=_ceilings(pack),
        mg_per_ml=order.drug.get("mg_per_ml"),
    )
    if why is not None:
        raise InvalidInputError(f"{order.drug_name} {why}", field)
