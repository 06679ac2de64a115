"""Holding CareLog's FHIR exports against the US Core 6.1.0 profiles they declare.

The profiles are read from the StructureDefinition snapshots HL7 publishes (a copy of the
package's profiles, value sets and code systems lives in ``tests/fhir/us-core-6.1.0``, CC0),
and every resource that declares one in ``meta.profile`` is checked element by element:

- cardinality (``min``/``max``) of every element, slices included;
- ``fixed[x]`` and ``pattern[x]`` values;
- required bindings, where the value set can be enumerated from the package (or is one of
  the base R4 value sets listed in ``BASE_VALUE_SETS``);
- every ``error`` invariant of the profile and of its base resource, evaluated with
  ``fhirpathpy`` (``ele-1``, which every element carries, is left to the structural models).

A profile CareLog declares but this package lacks is an error, so a typo cannot pass as
conformance. ``errors_of`` returns the problems as text; an empty list is conformance.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

PACKAGE = Path(__file__).parent / "fhir" / "us-core-6.1.0"
R4 = models["r4"]
SKIPPED_INVARIANTS = {"ele-1", "ext-1", "txt-1", "txt-2"}
"""``ele-1`` (every element has a value or children) and ``ext-1`` (an extension has a
value or extensions, not both) hold on every element, and the R4B models check both;
``txt-1``/``txt-2`` (the narrative's XHTML is safe and not empty) need ``htmlChecks()``,
which fhirpathpy lacks: ``narrative_errors`` checks CareLog's narratives instead."""
BUNDLE: dict[str, dict[str, Any]] = {}
"""The bundle being checked, by fullUrl, for FHIRPath's ``resolve()``."""


def _resolve(inputs: list[Any]) -> list[Any]:
    found = []
    for item in inputs:
        url = item.get("reference") if isinstance(item, dict) else item
        if isinstance(url, str) and url in BUNDLE:
            found.append(ResourceNode.create_node(BUNDLE[url]))  # typed, for ``is``
    return found


OPTIONS = {
    "userInvocationTable": {"resolve": {"fn": _resolve, "arity": {0: []}}},
    "traceFn": lambda *args: None,
}

BASE_VALUE_SETS: dict[str, set[str]] = {
    "http://hl7.org/fhir/ValueSet/administrative-gender": {"male", "female", "other", "unknown"},
    "http://hl7.org/fhir/ValueSet/condition-clinical": {
        "active",
        "recurrence",
        "relapse",
        "inactive",
        "remission",
        "resolved",
    },
    "http://hl7.org/fhir/ValueSet/condition-ver-status": {
        "unconfirmed",
        "provisional",
        "differential",
        "confirmed",
        "refuted",
        "entered-in-error",
    },
    "http://hl7.org/fhir/ValueSet/allergyintolerance-clinical": {"active", "inactive", "resolved"},
    "http://hl7.org/fhir/ValueSet/allergyintolerance-verification": {
        "unconfirmed",
        "confirmed",
        "refuted",
        "entered-in-error",
    },
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-category": {
        "food",
        "medication",
        "environment",
        "biologic",
    },
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-type": {"allergy", "intolerance"},
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality": {
        "low",
        "high",
        "unable-to-assess",
    },
    "http://hl7.org/fhir/ValueSet/observation-status": {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
    "http://hl7.org/fhir/ValueSet/medicationrequest-status": {
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    },
    "http://hl7.org/fhir/ValueSet/medicationrequest-intent": {
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    },
    "http://hl7.org/fhir/ValueSet/request-priority": {"routine", "urgent", "asap", "stat"},
    "http://hl7.org/fhir/ValueSet/request-status": {
        "draft",
        "active",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
        "unknown",
    },
    "http://hl7.org/fhir/ValueSet/care-plan-intent": {"proposal", "plan", "order", "option"},
    "http://hl7.org/fhir/ValueSet/care-plan-activity-status": {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    },
    "http://hl7.org/fhir/ValueSet/care-plan-activity-kind": {
        "Appointment",
        "CommunicationRequest",
        "DeviceRequest",
        "MedicationRequest",
        "NutritionOrder",
        "Task",
        "ServiceRequest",
        "VisionPrescription",
    },
    "http://hl7.org/fhir/ValueSet/care-team-status": {
        "proposed",
        "active",
        "suspended",
        "inactive",
        "entered-in-error",
    },
    "http://hl7.org/fhir/ValueSet/goal-status": {
        "proposed",
        "planned",
        "accepted",
        "active",
        "on-hold",
        "completed",
        "cancelled",
        "entered-in-error",
        "rejected",
    },
    "http://hl7.org/fhir/ValueSet/questionnaire-answers-status": {
        "in-progress",
        "completed",
        "amended",
        "entered-in-error",
        "stopped",
    },
    "http://hl7.org/fhir/ValueSet/provenance-entity-role": {
        "derivation",
        "revision",
        "quotation",
        "source",
        "removal",
    },
    "http://hl7.org/fhir/ValueSet/name-use": {
        "usual",
        "official",
        "temp",
        "nickname",
        "anonymous",
        "old",
        "maiden",
    },
    "http://hl7.org/fhir/ValueSet/identifier-use": {
        "usual",
        "official",
        "temp",
        "secondary",
        "old",
    },
    "http://hl7.org/fhir/ValueSet/ucum-units": set(),  # any UCUM code: checked by system only
    "http://hl7.org/fhir/ValueSet/quantity-comparator": {"<", "<=", ">=", ">"},
    "http://hl7.org/fhir/ValueSet/units-of-time": {"s", "min", "h", "d", "wk", "mo", "a"},
    "http://hl7.org/fhir/ValueSet/days-of-week": {"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
    "http://hl7.org/fhir/ValueSet/event-timing": set(),  # open-ended (v3 + HL7 codes)
    "http://hl7.org/fhir/ValueSet/mimetypes": set(),  # BCP 13: any MIME type
    "http://hl7.org/fhir/ValueSet/languages": set(),
    "http://hl7.org/fhir/ValueSet/all-languages": set(),
    "http://hl7.org/fhir/ValueSet/resource-types": set(),
    "http://hl7.org/fhir/ValueSet/narrative-status": {
        "generated",
        "extensions",
        "additional",
        "empty",
    },
    "http://hl7.org/fhir/ValueSet/contact-point-system": {
        "phone",
        "fax",
        "email",
        "pager",
        "url",
        "sms",
        "other",
    },
    "http://hl7.org/fhir/ValueSet/contact-point-use": {"home", "work", "temp", "old", "mobile"},
    "http://hl7.org/fhir/ValueSet/address-use": {"home", "work", "temp", "old", "billing"},
    "http://hl7.org/fhir/ValueSet/address-type": {"postal", "physical", "both"},
    "http://hl7.org/fhir/ValueSet/link-type": {"replaced-by", "replaces", "refer", "seealso"},
    "http://hl7.org/fhir/ValueSet/document-reference-status": {
        "current",
        "superseded",
        "entered-in-error",
    },
    # US Core's birthsex value set includes these two VSAC value sets (not in the package):
    # ONC Administrative Sex (v3 AdministrativeGender F, M; NullFlavor UNK) and "Asked but
    # unknown" (NullFlavor ASKU), as US Core 6.1.0's birthsex page lists them.
    "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113762.1.4.1": {"F", "M", "UNK"},
    "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113762.1.4.1021.103": {"ASKU"},
    "http://hl7.org/fhir/ValueSet/composition-status": {
        "preliminary",
        "final",
        "amended",
        "entered-in-error",
    },
}
"""Base R4 (4.0.1) required value sets the US Core profiles bind, by their codes; an empty
set means "any code" (a grammar, not a list), which this check cannot enumerate."""


# -- the package ----------------------------------------------------------------------------
@cache
def package() -> dict[str, dict[str, Any]]:
    """Every conformance resource of the package by canonical URL."""
    found = {}
    for path in PACKAGE.glob("*.json"):
        resource = json.loads(path.read_text())
        if "url" in resource:
            found[resource["url"]] = resource
    return found


def _canonical(url: str) -> str:
    return url.split("|", 1)[0]


@cache
def expand(url: str) -> frozenset[tuple[str | None, str]] | None:
    """The (system, code)s of a value set, or None when it cannot be enumerated here."""
    url = _canonical(url)
    if url in BASE_VALUE_SETS:
        codes = BASE_VALUE_SETS[url]
        return frozenset((None, c) for c in codes) if codes else None
    vs = package().get(url)
    if vs is None or vs.get("resourceType") != "ValueSet":
        return None
    out: set[tuple[str | None, str]] = set()
    for include in vs.get("compose", {}).get("include", []):
        if "filter" in include:
            return None
        for nested in include.get("valueSet", []):
            inner = expand(nested)
            if inner is None:
                return None
            out |= inner
        system = include.get("system")
        if "concept" in include:
            out |= {(system, c["code"]) for c in include["concept"]}
        elif system is not None:
            cs = package().get(system)
            if cs is None or cs.get("content") != "complete":
                return None
            out |= {(system, code) for code in _all_codes(cs.get("concept", []))}
    return frozenset(out)


def _all_codes(concepts: list[dict[str, Any]]) -> Iterator[str]:
    for concept in concepts:
        yield concept["code"]
        yield from _all_codes(concept.get("concept", []))


# -- walking an instance along a profile's element ids --------------------------------------
def _segments(element_id: str) -> list[tuple[str, str | None]]:
    """ "Observation.value[x]:valueQuantity.code" -> [("value[x]", "valueQuantity"), ...]."""
    parts = []
    for segment in element_id.split(".")[1:]:
        name, _, slice_name = segment.partition(":")
        parts.append((name, slice_name or None))
    return parts


def _children(node: Any, name: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        stem = name[:-3]
        values = [
            value
            for key, value in node.items()
            if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper()
        ]
    elif name in node:
        values = [node[name]]
    else:  # a primitive given only as extensions (a data-absent reason) is still present
        values = [node[f"_{name}"]] if f"_{name}" in node else []
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern matching: every property of the pattern is present in the value."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            matches_pattern(value.get(k), p) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else []
        return all(any(matches_pattern(item, p) for item in items) for p in pattern)
    return bool(value == pattern)


def _fixed_or_pattern(element: dict[str, Any]) -> tuple[str, Any] | None:
    for key, value in element.items():
        if key.startswith("fixed") or key.startswith("pattern"):
            return key, value
    return None


class Profile:
    """One StructureDefinition's snapshot, indexed for checking instances against it."""

    def __init__(self, sd: dict[str, Any]) -> None:
        self.url = sd["url"]
        self.type = sd["type"]
        self.elements = sd["snapshot"]["element"]
        self.by_id = {e["id"]: e for e in self.elements}

    def _slice_matches(self, element_id: str, slicing_id: str, candidate: Any) -> bool:
        slicing = self.by_id.get(slicing_id, {}).get("slicing", {})
        for discriminator in slicing.get("discriminator", []):
            path = discriminator["path"]
            if discriminator["type"] not in ("value", "pattern"):
                continue
            if path == "$this":
                target = self.by_id[element_id]
                values = [candidate]
            else:
                target = self.by_id.get(f"{element_id}.{path}", {})
                values = [candidate]
                for step in path.split("."):
                    values = [c for value in values for c in _children(value, step)]
            expected = _fixed_or_pattern(target)
            if expected is None and path == "$this":  # sliced by a value set
                codes = expand(target.get("binding", {}).get("valueSet", ""))
                if codes is None or not any(_in_value_set(v, codes) for v in values):
                    return False
                continue
            if expected is None and path == "url":
                profiles = self.by_id[element_id].get("type", [{}])[0].get("profile", [])
                if profiles:
                    expected = ("fixedUri", profiles[0])
            if expected is None:
                continue
            key, want = expected
            if key.startswith("fixed"):
                if not any(v == want for v in values):
                    return False
            elif not any(matches_pattern(v, want) for v in values):
                return False
        return True

    def instances(self, resource: dict[str, Any], element_id: str) -> list[Any]:
        """The values in ``resource`` that the element ``element_id`` describes."""
        nodes: list[Any] = [resource]
        so_far = self.type
        for name, slice_name in _segments(element_id):
            prefix = f"{so_far}.{name}"
            found: list[Any] = []
            for node in nodes:
                if slice_name and name.endswith("[x]"):
                    found.extend(_exact(node, slice_name))
                else:
                    found.extend(_children(node, name))
            if slice_name and not name.endswith("[x]"):
                found = [
                    f for f in found if self._slice_matches(f"{prefix}:{slice_name}", prefix, f)
                ]
            nodes = found
            so_far = f"{prefix}:{slice_name}" if slice_name else prefix
        return nodes

    def check(self, resource: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        for element in self.elements[1:]:
            errors.extend(self._check_element(resource, element))
        errors.extend(self._check_invariants(resource))
        return errors

    def _check_element(self, resource: dict[str, Any], element: dict[str, Any]) -> list[str]:
        element_id = element["id"]
        parent_id = element_id.rsplit(".", 1)[0]
        parents = self.instances(resource, parent_id) if "." in parent_id else [resource]
        if not parents:
            return []
        errors = []
        low, high = element.get("min", 0), element.get("max", "*")
        if low or high != "*":
            last = element_id.rsplit(".", 1)[1]
            for parent in parents:
                count = len(self._in_parent(parent, parent_id, last))
                if count < low:
                    errors.append(f"{element_id}: min {low}, found {count}")
                if high != "*" and count > int(high):
                    errors.append(f"{element_id}: max {high}, found {count}")
        values = self.instances(resource, element_id)
        expected = _fixed_or_pattern(element)
        if expected is not None:
            key, want = expected
            for value in values:
                ok = value == want if key.startswith("fixed") else matches_pattern(value, want)
                if not ok:
                    errors.append(f"{element_id}: {key} {want!r}, found {value!r}")
        binding = element.get("binding", {})
        if binding.get("strength") == "required" and binding.get("valueSet"):
            codes = expand(binding["valueSet"])
            if codes is not None:
                for value in values:
                    if not _in_value_set(value, codes):
                        errors.append(f"{element_id}: {value!r} not in {binding['valueSet']}")
        return errors

    def _in_parent(self, parent: Any, parent_id: str, last: str) -> list[Any]:
        name, _, slice_name = last.partition(":")
        if slice_name and name.endswith("[x]"):
            return _exact(parent, slice_name)
        found = _children(parent, name)
        if slice_name:
            prefix = f"{parent_id}.{name}"
            found = [f for f in found if self._slice_matches(f"{prefix}:{slice_name}", prefix, f)]
        return found

    def _check_invariants(self, resource: dict[str, Any]) -> list[str]:
        errors = []
        seen: set[tuple[str, str]] = set()
        for element in self.elements:
            path = element["path"]
            for constraint in element.get("constraint", []):
                key = constraint["key"]
                if constraint.get("severity") != "error" or key in SKIPPED_INVARIANTS:
                    continue
                sliced = ":" in element["id"]
                where = element["id"] if sliced else path
                if (key, where) in seen:
                    continue
                seen.add((key, where))
                expression = constraint["expression"]
                context = {"resource": resource, "rootResource": resource}
                if sliced:  # on the slice's own instances, each as the root
                    bases = self.instances(resource, element["id"])
                else:
                    steps = [s.removesuffix("[x]") for s in path.split(".")[1:]]
                    if steps:
                        expression = f"{'.'.join(steps)}.all({expression})"
                    bases = [resource]
                for base in bases:
                    try:
                        result = _compiled(expression)(base, context)
                    except Exception as exc:  # an expression fhirpathpy cannot run fails
                        errors.append(f"{key} on {where}: could not evaluate ({exc})")
                        break
                    if result not in ([], [True]):
                        errors.append(f"{key} on {where}: {constraint.get('human', '')}")
                        break
        return errors


def _exact(node: Any, key: str) -> list[Any]:
    if not isinstance(node, dict) or key not in node:
        return []
    value = node[key]
    return value if isinstance(value, list) else [value]


@cache
def _compiled(expression: str) -> Callable[[Any], Any]:
    return fhirpathpy.compile(expression, R4, OPTIONS)  # type: ignore[no-any-return]


def _in_value_set(value: Any, codes: frozenset[tuple[str | None, str]]) -> bool:
    plain = {c for _, c in codes}
    if isinstance(value, str):
        return value in plain
    if isinstance(value, dict) and "code" in value and "coding" not in value:
        return (value.get("system"), value["code"]) in codes or (None, value["code"]) in codes
    if isinstance(value, dict):
        return any(
            (c.get("system"), c.get("code")) in codes or (None, c.get("code")) in codes
            for c in value.get("coding", [])
        )
    return False


@cache
def profile(url: str) -> Profile | None:
    sd = package().get(_canonical(url))
    if sd is None or sd.get("resourceType") != "StructureDefinition":
        return None
    return Profile(sd)


US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
BY_TYPE = {
    "Patient": "us-core-patient",
    "Practitioner": "us-core-practitioner",
    "Organization": "us-core-organization",
    "CareTeam": "us-core-careteam",
    "CarePlan": "us-core-careplan",
    "Goal": "us-core-goal",
    "MedicationRequest": "us-core-medicationrequest",
    "Medication": "us-core-medication",
    "AllergyIntolerance": "us-core-allergyintolerance",
    "QuestionnaireResponse": "us-core-questionnaireresponse",
    "Provenance": "us-core-provenance",
    "DocumentReference": "us-core-documentreference",
}
"""The US Core profile a receiver holds each resource type to."""


def _codes(concepts: list[dict[str, Any]]) -> set[str]:
    return {c.get("code", "") for concept in concepts for c in concept.get("coding", [])}


def expected_profile(resource: dict[str, Any]) -> str | None:
    """The US Core 6.1.0 profile a receiver would hold ``resource`` to, or None."""
    kind = resource["resourceType"]
    if kind in BY_TYPE:
        return US_CORE + BY_TYPE[kind]
    if kind == "Condition":
        categories = _codes(resource.get("category", []))
        if "encounter-diagnosis" in categories:
            return US_CORE + "us-core-condition-encounter-diagnosis"
        return US_CORE + "us-core-condition-problems-health-concerns"
    if kind != "Observation":
        return None
    code = _codes([resource.get("code", {})])
    categories = _codes(resource.get("category", []))
    text = resource.get("code", {}).get("text", "").lower()
    if "29463-7" in code or text == "weight":
        return US_CORE + "us-core-body-weight"
    if "72166-2" in code or "smok" in text:
        return US_CORE + "us-core-smokingstatus"
    if "82810-3" in code:
        return US_CORE + "us-core-observation-pregnancystatus"
    if "vital-signs" in categories:
        return US_CORE + "us-core-vital-signs"
    if "laboratory" in categories:
        return US_CORE + "us-core-observation-lab"
    if categories & {"survey", "sdoh"}:
        return US_CORE + "us-core-observation-screening-assessment"
    return US_CORE + "us-core-simple-observation"


def errors_of(resource: dict[str, Any]) -> list[str]:
    """Every way ``resource`` breaks the profile it declares or should declare."""
    errors = []
    declared = [_canonical(u) for u in resource.get("meta", {}).get("profile", [])]
    expected = expected_profile(resource)
    if expected is not None and expected not in declared:
        errors.append(f"does not declare {expected}")
        declared.append(expected)
    for url in dict.fromkeys(declared):
        checked = profile(url)
        if checked is None:
            errors.append(f"unknown profile {url}")
            continue
        if checked.type != resource["resourceType"]:
            errors.append(f"{url} profiles {checked.type}, not {resource['resourceType']}")
            continue
        errors.extend(checked.check(resource))
    for extension in resource.get("extension", []):  # each held to its own definition
        defined = profile(extension.get("url", ""))
        if defined is not None and defined.type == "Extension":
            errors.extend(f"{extension['url']}: {e}" for e in defined.check(extension))
    return errors


def bundle_errors(bundle: dict[str, Any]) -> dict[str, list[str]]:
    """The errors of every resource in a bundle, by ``Type/id`` (conformant ones left out):
    US Core 6.1.0 profiles and the base R4 invariants (``tests/fhir_r4_invariants.py``) of
    every resource and datatype, and the bundle's own ``bdl-*`` under ``Bundle/<id>``."""
    from tests.fhir_r4_invariants import bundle_r4_errors, r4_errors

    BUNDLE.clear()
    BUNDLE.update({e["fullUrl"]: e["resource"] for e in bundle["entry"]})
    found = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        errors = errors_of(resource) + r4_errors(resource)
        if errors:
            found[f"{resource['resourceType']}/{resource['id']}"] = errors
    if own := bundle_r4_errors(bundle):
        found[f"Bundle/{bundle.get('id', '')}"] = own
    return found


def error_counts(bundle: dict[str, Any]) -> Counter[str]:
    """Resources with at least one error, by resource type."""
    return Counter(key.split("/", 1)[0] for key in bundle_errors(bundle))


def assert_conformant(bundle: dict[str, Any]) -> None:
    found = bundle_errors(bundle)
    assert not found, json.dumps(dict(list(found.items())[:5]), indent=1)
