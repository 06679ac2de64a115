"""Medication orders as FHIR: one ``MedicationRequest`` per version of an order, one
``MedicationStatement`` per order, and the current medication ``List``.

A dose change is a new request whose ``priorPrescription`` is the request it replaces;
the replaced one is ``stopped`` with the change's reason. A discontinuation stops the last
version with its reason (and taper). Versions follow clinical (effective) order, the order
the fold keeps an order's steps in, so a late-entered dose change slots in where it
happened. The statements are ``active`` for the current list at the export's time and
``stopped`` otherwise; the ``List`` names the active ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.plan_entities import Order
from services.interop.fhir import vocabulary as v
from services.interop.fhir.conditions import conditions_named
from services.interop.fhir.dosage import dosage
from services.interop.fhir.patient import patient_ref, practitioner_ref
from services.interop.fhir.references import Entry, instant, ref, resource_id
from services.interop.fhir.rxnorm import Brand, brand_named, rxnorm_ingredients
from services.interop.fhir.selection import Selection
from services.interop.fhir.taper import taper_dosages

MEDICATION_EVENTS = ("MedicationPrescribed", "DoseChanged", "MedicationDiscontinued")


def request_id(step_event_id: str) -> str:
    return resource_id("MedicationRequest", step_event_id)


def statement_id(order_id: str) -> str:
    return resource_id("MedicationStatement", order_id)


def request_ref_at(
    sel: Selection, order_id: str | None, at: datetime | None
) -> dict[str, Any] | None:
    """The version of an order in effect at ``at`` (its first version before it started)."""
    order = sel.state.orders.get(order_id) if order_id else None
    if order is None:
        return None
    steps = order.steps
    chosen = steps[0]
    for step in steps:
        if at is None or step.effective_at <= at:
            chosen = step
    return ref("MedicationRequest", request_id(chosen.event_id))


def statement_ref(sel: Selection, order_id: str | None) -> dict[str, Any] | None:
    if not order_id or order_id not in sel.state.orders:
        return None
    return ref("MedicationStatement", statement_id(order_id))


def drug_concept(
    drug: Mapping[str, Any], brands: Mapping[str, Brand] | None = None
) -> dict[str, Any]:
    """The drug as prescribed (its name as text), with the RxNorm code the prescriber gave
    or the rule pack holds, the ingredient's RxCUI for the generic CareLog resolved, and the
    brand name's RxCUI when the prescription named a brand ("Zoloft", not "sertraline")."""
    codings = []
    given = str(drug["rxnorm"]) if drug.get("rxnorm") else None
    generic = drug.get("generic") or None
    ingredient = rxnorm_ingredients().get(str(generic or drug["name"]).strip().lower())
    brand = brand_named(drug, brands)
    if given:
        named = generic if ingredient in (None, given) else None
        if brand is not None and given == brand.code:
            named = brand.name
        codings.append(v.coding(v.RXNORM, given, named))
    if ingredient and ingredient != given:
        codings.append(v.coding(v.RXNORM, ingredient, str(generic or drug["name"]).lower()))
    if brand is not None and brand.code != given:
        codings.append(v.coding(v.RXNORM, brand.code, brand.name))
    concept = v.concept(drug["name"], *codings)
    # what CareLog read from the name ("Effexor XR": venlafaxine, XR), which the dose checks used
    resolved = [
        {"url": f"{v.BASE}/StructureDefinition/{key}", "valueString": str(drug[key])}
        for key in ("generic", "formulation")
        if drug.get(key)
    ]
    if resolved:
        concept["extension"] = resolved
    return concept


def medication_id(order_id: str) -> str:
    return resource_id("Medication", order_id)


def combination_medication(order: Order) -> dict[str, Any] | None:
    """A combination product (Symbyax: olanzapine and fluoxetine) as a US Core Medication
    whose ingredients carry their RxNorm ingredient codes; None for a single drug. One
    CodeableConcept cannot hold two ingredients' codes (its codings must mean the same
    thing), so the requests and statements refer to this resource instead."""
    drug = order.drug
    ingredients = drug.get("ingredients") or []
    if len(ingredients) < 2:
        return None
    codes = rxnorm_ingredients()
    items = []
    for name in ingredients:
        code = codes.get(str(name).strip().lower())
        coded = v.concept(str(name), v.coding(v.RXNORM, code, str(name))) if code else None
        items.append({"itemCodeableConcept": coded or v.concept(str(name)), "isActive": True})
    return {
        "resourceType": "Medication",
        "id": medication_id(order.order_id),
        "meta": v.us_core("us-core-medication"),
        # the product of one order: its own identifier system (identifiers name one resource)
        "identifier": [v.identifier("order-medication", order.order_id)],
        "code": drug_concept(drug),
        "ingredient": items,
    }


def medication_field(order: Order) -> dict[str, Any]:
    """``medication[x]`` of a request or statement for the order's drug."""
    if len(order.drug.get("ingredients") or []) >= 2:
        return {"medicationReference": ref("Medication", medication_id(order.order_id))}
    return {"medicationCodeableConcept": drug_concept(order.drug)}


def medication_entries(sel: Selection) -> list[Entry]:
    entries: list[Entry] = []
    active: list[dict[str, Any]] = []
    all_events: list[str] = []
    recorded: list[datetime] = []
    for order_id, order in sel.state.orders.items():
        product = combination_medication(order)
        if product is not None:  # what was prescribed, as the order first named it
            entries.append(Entry(product, [order.steps[0].event_id]))
        stops = sel.about("order_id", order_id, "MedicationDiscontinued")
        stop_ids = [e.event_id for e in stops] if order.status == "discontinued" else []
        entries.extend(_requests(sel, order, stop_ids))
        statement = _statement(sel, order, stops if stop_ids else [])
        made_by = [s.event_id for s in order.steps] + stop_ids
        entries.append(Entry(statement, made_by))
        all_events.extend(made_by)
        recorded.extend([s.recorded_at for s in order.steps])
        recorded.extend(e.timestamp for e in stops if stop_ids)
        if order.status == "active":
            active.append(statement)
    if sel.state.orders:
        entries.append(Entry(_current_list(sel, active, max(recorded)), all_events))
    return entries


def _requests(sel: Selection, order: Order, stop_ids: list[str]) -> list[Entry]:
    steps = order.steps
    entries = []
    for i, step in enumerate(steps):
        later = steps[i + 1] if i + 1 < len(steps) else None
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "id": request_id(step.event_id),
            "meta": v.us_core("us-core-medicationrequest"),
            # one identifier per version; the order they are versions of as the group
            "identifier": [v.identifier("order-version", step.event_id)],
            "groupIdentifier": v.identifier("order-id", order.order_id),
            "status": "active",
            "intent": "order",
            **medication_field(order),
            "subject": patient_ref(sel),
            "authoredOn": instant(step.effective_at),
            "requester": practitioner_ref(step.actor.id),
            "reasonCode": [{"text": order.indication}],
            "dosageInstruction": [
                dosage(step.dose, step.frequency, order.route, order.instructions)
            ],
        }
        made_by = [step.event_id]
        if i > 0:
            resource["priorPrescription"] = ref(
                "MedicationRequest", request_id(steps[i - 1].event_id)
            )
            resource["note"] = [{"text": f"Dose changed: {step.reason}"}]
        if later is not None:
            resource["status"] = "stopped"
            resource["statusReason"] = {"text": f"Dose changed: {later.reason}"}
            made_by.append(later.event_id)
        elif order.status == "discontinued":
            resource["status"] = "stopped"
            resource["statusReason"] = {"text": _stop_text(order)}
            made_by.extend(stop_ids)
        reasons, reason_events = conditions_named(sel, order.indication)
        if reasons:
            resource["reasonReference"] = reasons
            made_by.extend(reason_events)
        entries.append(Entry(resource, made_by))
    return entries


def _stop_text(order: Order) -> str:
    text = f"Discontinued: {order.stop_reason}"
    return f"{text}. Taper: {order.taper}" if order.taper else text


def _statement(sel: Selection, order: Order, stops: list[Any]) -> dict[str, Any]:
    latest = order.steps[-1]
    recorded = [s.recorded_at for s in order.steps] + [e.timestamp for e in stops]
    source = stops[-1].actor_id if stops else latest.actor.id
    period = {"start": instant(order.since)}
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": statement_id(order.order_id),
        "identifier": [v.identifier("order-id", order.order_id)],
        "basedOn": [ref("MedicationRequest", request_id(latest.event_id))],
        "status": "active",
        **medication_field(order),
        "subject": patient_ref(sel),
        "effectivePeriod": period,
        "dateAsserted": instant(max(recorded)),
        "informationSource": practitioner_ref(source),
        "reasonCode": [{"text": order.indication}],
        "dosage": [dosage(latest.dose, latest.frequency, order.route, order.instructions)],
    }
    if order.status == "discontinued" and order.stopped_at is not None:
        statement["status"] = "stopped"
        statement["statusReason"] = [{"text": _stop_text(order)}]
        period["end"] = instant(order.stopped_at)
        taper = taper_dosages(order, order.stopped_at)
        if taper is not None:  # taken until the taper ends, step by step
            steps, ends = taper
            last = statement["dosage"][0]
            last["sequence"] = 1
            last["timing"].setdefault("repeat", {})["boundsPeriod"] = {
                "start": instant(latest.effective_at),
                "end": instant(order.stopped_at),
            }
            statement["dosage"] += steps
            period["end"] = instant(ends)
    return statement


def _current_list(
    sel: Selection, active: list[dict[str, Any]], last_change: datetime
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "List",
        "id": resource_id("List", sel.patient_id, "medications"),
        "status": "current",
        "mode": "snapshot",
        "title": "Current medications",
        "code": v.concept(
            "Medication list", v.coding(v.LIST_USE, "medications", "Medication List")
        ),
        "subject": patient_ref(sel),
        "date": instant(last_change),
    }
    if active:
        resource["entry"] = [{"item": ref("MedicationStatement", s["id"])} for s in active]
    else:
        resource["emptyReason"] = v.concept(
            "No current medications", v.coding(v.LIST_EMPTY_REASON, "nilknown", "Nil Known")
        )
    return resource
