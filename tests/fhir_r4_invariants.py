"""The base FHIR R4 (4.0.1) invariants, held on every resource CareLog exports.

US Core's profiles carry the invariants of the resources they profile, but a receiver holds
every resource to the base specification, profiled or not, and every datatype inside it to
the datatype's own rules (a Period's start not after its end, a Quantity's code with its
system, a Timing's period with its unit). This module checks them all:

- **resource invariants**: for the resource types US Core profiles, the base ones are read
  from the package's snapshots (the constraints whose ``source`` is the base resource, as
  HL7 published them); for the types CareLog exports that US Core does not profile they are
  written out below from the R4 specification, each citing its page. A resource type with no
  entry in either place is an error, so a new kind of export cannot skip the check;
- **datatype invariants**: every element is typed with fhirpathpy's R4 model (``path2Type``)
  and each complex datatype value is held to its R4 invariants; a datatype the R4
  specification gives invariants that this module does not know is an error too;
- **bundle invariants** ``bdl-*`` on the export bundle itself.

``ele-1``/``ext-1`` (the R4B models check both) and ``txt-1``/``txt-2`` (XHTML checks
fhirpathpy lacks; ``narrative_errors`` covers CareLog's narratives) are left out, as in
``tests/fhir_conformance.py``. fhirpathpy has no ``hasValue()``; it is supplied here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from tests.fhir_conformance import _resolve, package

R4 = models["r4"]
SPEC = "http://hl7.org/fhir/R4/"
BASE_SD = "http://hl7.org/fhir/StructureDefinition/"
UCUM = "http://unitsofmeasure.org"
LEFT_OUT = {"ele-1", "ext-1", "txt-1", "txt-2"}


@dataclass(frozen=True)
class Invariant:
    key: str
    context: str  # "(base)" or a path below the type, e.g. "entry"
    expression: str
    human: str
    source: str


def _inv(kind: str, page: str, *rows: tuple[str, str, str, str]) -> tuple[Invariant, ...]:
    return tuple(Invariant(k, c, e, h, f"{SPEC}{page}#invs") for k, c, e, h in rows)


UNPROFILED: dict[str, tuple[Invariant, ...]] = {
    "Bundle": _inv(
        "Bundle",
        "bundle.html",
        (
            "bdl-1",
            "(base)",
            "total.empty() or (type = 'searchset') or (type = 'history')",
            "total only when a search or history",
        ),
        (
            "bdl-2",
            "(base)",
            "entry.search.empty() or (type = 'searchset')",
            "entry.search only when a search",
        ),
        (
            "bdl-3",
            "(base)",
            "entry.all(request.exists() = (%resource.type = 'batch' or "
            "%resource.type = 'transaction' or %resource.type = 'history'))",
            "entry.request mandatory for batch/transaction/history, otherwise prohibited",
        ),
        (
            "bdl-4",
            "(base)",
            "entry.all(response.exists() = (%resource.type = 'batch-response' or "
            "%resource.type = 'transaction-response' or %resource.type = 'history'))",
            "entry.response mandatory for batch-response/transaction-response/history, "
            "otherwise prohibited",
        ),
        (
            "bdl-5",
            "entry",
            "resource.exists() or request.exists() or response.exists()",
            "must be a resource unless there's a request or response",
        ),
        (
            "bdl-7",
            "(base)",
            "(type = 'history') or entry.where(fullUrl.exists())"
            ".select(fullUrl&resource.meta.versionId).isDistinct()",
            "FullUrl must be unique in a bundle, or else entries with the same fullUrl must "
            "have different meta.versionId (except in history bundles)",
        ),
        (
            "bdl-8",
            "entry",
            "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
            "fullUrl cannot be a version specific reference",
        ),
        (
            "bdl-9",
            "(base)",
            "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
            "A document must have an identifier with a system and a value",
        ),
        (
            "bdl-10",
            "(base)",
            "type = 'document' implies (timestamp.hasValue())",
            "A document must have a date",
        ),
        (
            "bdl-11",
            "(base)",
            "type = 'document' implies entry.first().resource.is(Composition)",
            "A document must have a Composition as the first resource",
        ),
        (
            "bdl-12",
            "(base)",
            "type = 'message' implies entry.first().resource.is(MessageHeader)",
            "A message must have a MessageHeader as the first resource",
        ),
    ),
    # R4 publishes ppc-2..ppc-5 with the placeholder system 'something' (so, as published,
    # they never fail); they are checked as published and, as intended, with the consent
    # scope code system (ppc-2i.. below), which is stricter.
    "Consent": _inv(
        "Consent",
        "consent.html",
        (
            "ppc-1",
            "(base)",
            "policy.exists() or policyRule.exists()",
            "Either a Policy or PolicyRule",
        ),
        *[
            (
                f"ppc-{n}{suffix}",
                "(base)",
                f"patient.exists() or scope.coding.where(system='{system}' and "
                f"code='{code}').exists().not()",
                f"IF Scope={label}, there must be a patient",
            )
            for n, code, label in (
                (2, "patient-privacy", "privacy"),
                (3, "research", "research"),
                (4, "adr", "adr"),
                (5, "treatment", "treatment"),
            )
            for suffix, system in (
                ("", "something"),
                ("i", "http://terminology.hl7.org/CodeSystem/consentscope"),
            )
        ],
    ),
    "List": _inv(
        "List",
        "list.html",
        (
            "lst-1",
            "(base)",
            "emptyReason.empty() or entry.empty()",
            "A list can only have an emptyReason if it is empty",
        ),
        (
            "lst-2",
            "(base)",
            "mode = 'changes' or entry.deleted.empty()",
            'The deleted flag can only be used if the mode of the list is "changes"',
        ),
        (
            "lst-3",
            "(base)",
            "mode = 'working' or entry.date.empty()",
            'An entry date can only be used if the mode of the list is "working"',
        ),
    ),
    # The R4 pages of these resources define no invariants of their own (only dom-*).
    "AdverseEvent": (),
    "ClinicalImpression": (),
    "Communication": (),
    "DetectedIssue": (),
    "MedicationStatement": (),
}
"""Base R4 invariants of the resource types CareLog exports that US Core does not profile,
from each resource's "Constraints" table in the R4 specification (the cited page)."""

DATATYPES: dict[str, tuple[Invariant, ...]] = {
    "Quantity": _inv(
        "Quantity",
        "datatypes.html#Quantity",
        (
            "qty-3",
            "(base)",
            "code.empty() or system.exists()",
            "If a code for the unit is present, the system SHALL also be present",
        ),
    ),
    "Ratio": _inv(
        "Ratio",
        "datatypes.html#Ratio",
        (
            "rat-1",
            "(base)",
            "(numerator.empty() xor denominator.exists()) and "
            "(numerator.exists() or extension.exists())",
            "Numerator and denominator SHALL both be present, or both are absent. If both "
            "are absent, there SHALL be some extension present",
        ),
    ),
    "Reference": _inv(
        "Reference",
        "references.html#Reference",
        (
            "ref-1",
            "(base)",
            "reference.startsWith('#').not() or (reference.substring(1) in "
            "%rootResource.contained.id)",
            "SHALL have a contained resource if a local reference is provided",
        ),
    ),
    "Attachment": _inv(
        "Attachment",
        "datatypes.html#Attachment",
        (
            "att-1",
            "(base)",
            "data.empty() or contentType.exists()",
            "If the Attachment has data, it SHALL have a contentType",
        ),
    ),
    "ContactPoint": _inv(
        "ContactPoint",
        "datatypes.html#ContactPoint",
        (
            "cpt-2",
            "(base)",
            "value.empty() or system.exists()",
            "A system is required if a value is provided.",
        ),
    ),
    "Duration": _inv(
        "Duration",
        "datatypes.html#Duration",
        (
            "drt-1",
            "(base)",
            "code.exists() implies ((system = %ucum) and value.exists())",
            "There SHALL be a code if there is a value and it SHALL be an expression of time. "
            "If system is present, it SHALL be UCUM.",
        ),
    ),
    "Age": _inv(
        "Age",
        "datatypes.html#Age",
        (
            "age-1",
            "(base)",
            "(code.exists() or value.empty()) and (system.empty() or system = %ucum) and "
            "(value.empty() or value.hasValue().not() or value > 0)",
            "There SHALL be a code if there is a value and it SHALL be an expression of time. "
            "If system is present, it SHALL be UCUM. If value is present, it SHALL be positive.",
        ),
    ),
    "Timing": _inv(
        "Timing",
        "datatypes.html#Timing",
        (
            "tim-1",
            "repeat",
            "duration.empty() or durationUnit.exists()",
            "if there's a duration, there needs to be duration units",
        ),
        (
            "tim-2",
            "repeat",
            "period.empty() or periodUnit.exists()",
            "if there's a period, there needs to be period units",
        ),
        (
            "tim-4",
            "repeat",
            "duration.exists() implies duration >= 0",
            "duration SHALL be a non-negative value",
        ),
        (
            "tim-5",
            "repeat",
            "period.exists() implies period >= 0",
            "period SHALL be a non-negative value",
        ),
        (
            "tim-6",
            "repeat",
            "periodMax.empty() or period.exists()",
            "If there's a periodMax, there must be a period",
        ),
        (
            "tim-7",
            "repeat",
            "durationMax.empty() or duration.exists()",
            "If there's a durationMax, there must be a duration",
        ),
        (
            "tim-8",
            "repeat",
            "countMax.empty() or count.exists()",
            "If there's a countMax, there must be a count",
        ),
        (
            "tim-9",
            "repeat",
            "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))",
            "If there's an offset, there must be a when (and not C, CM, CD, CV)",
        ),
        (
            "tim-10",
            "repeat",
            "timeOfDay.empty() or when.empty()",
            "If there's a timeOfDay, there cannot be a when, or vice versa",
        ),
    ),
    # per-1 (start <= end) and rng-2 (low <= high) compare dates and quantities, which
    # fhirpathpy compares as text here: they are checked in Python (``_ordered``).
    "Period": _inv(
        "Period",
        "datatypes.html#Period",
        ("per-1", "(base)", "python:per-1", "If present, start SHALL have a lower value than end"),
    ),
    "Range": _inv(
        "Range",
        "datatypes.html#Range",
        ("rng-2", "(base)", "python:rng-2", "If present, low SHALL have a lower value than high"),
    ),
}
"""R4 datatype invariants, from the datatype's definition on the cited page."""

SIMPLE_QUANTITY = _inv(
    "SimpleQuantity",
    "datatypes.html#SimpleQuantity",
    ("sqty-1", "(base)", "comparator.empty()", "The comparator is not used on a SimpleQuantity"),
)
SIMPLE_QUANTITY_PATHS = {
    "Range.low",
    "Range.high",
    "Dosage.doseAndRate.doseQuantity",
    "Dosage.maxDosePerAdministration",
    "Dosage.maxDosePerLifetime",
    "Observation.referenceRange.low",
    "Observation.referenceRange.high",
    "MedicationRequest.dispenseRequest.quantity",
    "MedicationStatement.dosage.doseAndRate.doseQuantity",
}
"""Where R4 types an element SimpleQuantity (fhirpathpy's model says Quantity)."""

WITH_INVARIANTS_UNKNOWN_HERE = {
    "Count",
    "Distance",
    "Money",
    "SampledData",
    "Expression",
    "TriggerDefinition",
    "DataRequirement",
    "ElementDefinition",
    "RelatedArtifact",
    "MarketingStatus",
    "ProdCharacteristic",
    "Population",
    "SubstanceAmount",
}
"""R4 datatypes with invariants of their own (or carrying such types) this module does not
encode; one found in an export is reported rather than passed unchecked."""


# -- evaluation -----------------------------------------------------------------------------
def _has_value(inputs: list[Any]) -> list[bool]:
    values = [getattr(i, "data", i) for i in inputs]
    return [len(values) == 1 and values[0] is not None and not isinstance(values[0], dict | list)]


OPTIONS = {
    "userInvocationTable": {
        "hasValue": {"fn": _has_value, "arity": {0: []}},
        "resolve": {"fn": _resolve, "arity": {0: []}},  # within the bundle being checked
    },
    "traceFn": lambda *args: None,
}


@cache
def _compiled(expression: str) -> Callable[[Any, dict[str, Any]], Any]:
    return fhirpathpy.compile(expression, R4, OPTIONS)  # type: ignore[no-any-return]


def _holds(expression: str, node: Any, kind: str, context: dict[str, Any]) -> bool:
    result = _compiled(expression)(ResourceNode.create_node(node, kind), context)
    return result in ([], [True])


@cache
def profiled_base_invariants() -> dict[str, tuple[Invariant, ...]]:
    """The base-resource invariants the package's US Core snapshots carry, by resource type
    (the constraints whose source is the base resource or DomainResource)."""
    found: dict[str, dict[str, Invariant]] = {}
    for sd in package().values():
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") != "resource":
            continue
        kind = sd["type"]
        for element in sd["snapshot"]["element"]:
            if ":" in element["id"]:
                continue
            for c in element.get("constraint", []):
                source = c.get("source", "")
                base = source in (BASE_SD + kind, BASE_SD + "DomainResource")
                if not base or c.get("severity") != "error" or c["key"] in LEFT_OUT:
                    continue
                steps = element["path"].split(".")[1:]
                context = ".".join(s.removesuffix("[x]") for s in steps) or "(base)"
                found.setdefault(kind, {})[f"{c['key']}@{context}"] = Invariant(
                    c["key"], context, c["expression"], c.get("human", ""), source
                )
    return {kind: tuple(by_key.values()) for kind, by_key in found.items()}


@cache
def dom_invariants() -> tuple[Invariant, ...]:
    """dom-2..dom-5 as the package's snapshots give them (every DomainResource has them)."""
    return tuple(i for i in profiled_base_invariants()["Patient"] if i.key.startswith("dom-"))


def resource_invariants(kind: str) -> tuple[Invariant, ...] | None:
    if kind in profiled_base_invariants():
        return profiled_base_invariants()[kind]
    if kind in UNPROFILED:
        return (*dom_invariants(), *UNPROFILED[kind]) if kind != "Bundle" else UNPROFILED[kind]
    return None


def _evaluate(invariant: Invariant, node: Any, kind: str, context: dict[str, Any]) -> str | None:
    expression = invariant.expression
    if invariant.context != "(base)":
        expression = f"{invariant.context}.all({expression})"
    try:
        if _holds(expression, node, kind, context):
            return None
    except Exception as exc:  # an expression that cannot run is a failure, not a pass
        return f"{invariant.key}: could not evaluate ({exc})"
    return f"{invariant.key}: {invariant.human}"


def r4_errors(resource: dict[str, Any]) -> list[str]:
    """Every base R4 invariant ``resource`` breaks, its own and its datatypes'."""
    kind = resource["resourceType"]
    context = {"resource": resource, "rootResource": resource, "ucum": UCUM}
    invariants = resource_invariants(kind)
    if invariants is None:
        return [f"no base R4 invariants known for {kind}: add them to tests/fhir_r4_invariants.py"]
    errors = [e for inv in invariants if (e := _evaluate(inv, resource, kind, context)) is not None]
    for path, datatype, value in typed_values(resource, kind):
        if datatype in WITH_INVARIANTS_UNKNOWN_HERE:
            errors.append(f"{path}: {datatype} has R4 invariants this check does not know")
            continue
        rules = DATATYPES.get(datatype, ())
        if path in SIMPLE_QUANTITY_PATHS:
            rules = (*rules, *SIMPLE_QUANTITY)
        for inv in rules:
            failed = (
                _ordered(inv.key, value)
                if inv.expression.startswith("python:")
                else _evaluate(inv, value, datatype, context)
            )
            if failed:
                errors.append(f"{failed} on {path}")
    return errors


def bundle_r4_errors(bundle: dict[str, Any]) -> list[str]:
    """The ``bdl-*`` invariants on the bundle itself (its entries are checked one by one)."""
    context = {"resource": bundle, "rootResource": bundle, "ucum": UCUM}
    return [e for inv in UNPROFILED["Bundle"] if (e := _evaluate(inv, bundle, "Bundle", context))]


# -- typing the elements --------------------------------------------------------------------
@cache
def _model() -> tuple[dict[str, str], dict[str, str]]:
    folder = Path(fhirpathpy.__file__).parent / "models" / "r4"
    types = json.loads((folder / "path2Type.json").read_text())
    elsewhere = json.loads((folder / "pathsDefinedElsewhere.json").read_text())
    return types, elsewhere


def typed_values(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(element path, datatype, value) for every complex datatype value under ``node``."""
    types, elsewhere = _model()
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.startswith("_") or key in ("resourceType", "contained"):
            continue
        child = f"{path}.{key}"
        child = elsewhere.get(child, child)
        datatype = types.get(child)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                continue
            if datatype is None:  # a backbone element: its children sit under its path
                yield from typed_values(item, child)
            elif datatype == "Resource":
                continue  # an entry's resource is checked as a resource
            elif datatype[0].isupper() and datatype != "System.String":
                yield child, datatype, item
                yield from typed_values(item, datatype)


def _ordered(key: str, value: dict[str, Any]) -> str | None:
    if key == "per-1":
        start, end = value.get("start"), value.get("end")
        if isinstance(start, str) and isinstance(end, str) and _instant(start) > _instant(end):
            return f"per-1: start {start} is after end {end}"
        return None
    low, high = value.get("low", {}), value.get("high", {})
    if "value" in low and "value" in high:
        same_unit = (low.get("system"), low.get("code"), low.get("unit")) == (
            high.get("system"),
            high.get("code"),
            high.get("unit"),
        )
        if not same_unit:
            return "rng-2: low and high are in different units (not comparable here)"
        if Decimal(str(low["value"])) > Decimal(str(high["value"])):
            return f"rng-2: low {low['value']} is above high {high['value']}"
    return None


def _instant(text: str) -> datetime:
    """A FHIR date or dateTime as a comparable moment (a date as its first instant, UTC)."""
    moment = datetime.fromisoformat(text if "T" in text else f"{text[:10]}T00:00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
