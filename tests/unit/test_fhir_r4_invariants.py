"""The base R4 invariant check catches what a validating server would refuse, in every
resource type and datatype, and the exports pass it."""

from __future__ import annotations

from typing import Any

import pytest

from services.interop.fhir import build_bundle
from tests.fhir_conformance import bundle_errors
from tests.fhir_r4_invariants import (
    DATATYPES,
    UNPROFILED,
    bundle_r4_errors,
    r4_errors,
    resource_invariants,
)
from tests.fhir_support import Story


def keys(errors: list[str]) -> list[str]:
    return [e.split(":")[0] for e in errors]


class TestResourcesAreHeldToTheirBaseRules:
    def test_every_type_the_export_emits_has_its_rules_known(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert all(resource_invariants(kind) is not None for kind in kinds)
        assert "gol-1" in keys([f"{i.key}:" for i in resource_invariants("Goal") or ()])
        assert {"dom-2", "dom-5"} <= {i.key for i in resource_invariants("DetectedIssue") or ()}

    def test_a_type_without_known_rules_is_an_error_not_a_pass(self) -> None:
        errors = r4_errors({"resourceType": "Encounter", "id": "e"})
        assert len(errors) == 1
        assert "no base R4 invariants known for Encounter" in errors[0]

    def test_a_goal_with_a_target_detail_and_no_measure_breaks_gol_1(self) -> None:
        goal = {
            "resourceType": "Goal",
            "id": "g",
            "target": [{"detailString": "feel better"}],
        }
        assert "gol-1" in keys(r4_errors(goal))

    def test_a_consent_without_policy_breaks_ppc_1_and_a_treatment_scope_needs_a_patient(
        self,
    ) -> None:
        consent = {
            "resourceType": "Consent",
            "id": "c",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "treatment",
                    }
                ]
            },
        }
        assert keys(r4_errors(consent)) == ["ppc-1", "ppc-5i"]

    def test_a_list_with_an_empty_reason_and_entries_breaks_lst_1(self) -> None:
        listed = {
            "resourceType": "List",
            "id": "l",
            "mode": "snapshot",
            "emptyReason": {"text": "none"},
            "entry": [{"item": {"reference": "urn:uuid:x"}}],
        }
        assert keys(r4_errors(listed)) == ["lst-1"]

    def test_a_contained_resource_breaks_the_domain_resource_rules(self) -> None:
        issue = {
            "resourceType": "DetectedIssue",
            "id": "d",
            "contained": [
                {"resourceType": "Basic", "id": "b", "meta": {"versionId": "1"}},
            ],
        }
        assert "dom-4" in keys(r4_errors(issue))


class TestDatatypesAreHeldToTheirRules:
    @pytest.mark.parametrize(
        ("resource", "broken"),
        [
            (
                {
                    "resourceType": "MedicationStatement",
                    "id": "m",
                    "effectivePeriod": {"start": "2026-02-01T10:00:00+02:00", "end": "2026-02-01"},
                },
                "per-1",
            ),
            (
                {
                    "resourceType": "Observation",
                    "id": "o",
                    "valueQuantity": {"value": 1, "code": "mg"},
                },
                "qty-3",
            ),
            (
                {
                    "resourceType": "MedicationStatement",
                    "id": "m",
                    "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1}}}],
                },
                "tim-2",
            ),
            (
                {
                    "resourceType": "MedicationStatement",
                    "id": "m",
                    "dosage": [
                        {
                            "timing": {
                                "repeat": {
                                    "boundsDuration": {
                                        "value": 7,
                                        "code": "d",
                                        "system": "http://example.org",
                                    }
                                }
                            }
                        }
                    ],
                },
                "drt-1",
            ),
            (
                {
                    "resourceType": "Observation",
                    "id": "o",
                    "valueRange": {
                        "low": {"value": 2, "unit": "mmol/L"},
                        "high": {"value": 1, "unit": "mmol/L"},
                    },
                },
                "rng-2",
            ),
            (
                {
                    "resourceType": "MedicationStatement",
                    "id": "m",
                    "dosage": [
                        {"doseAndRate": [{"doseQuantity": {"value": 5, "comparator": "<"}}]}
                    ],
                },
                "sqty-1",
            ),
            (
                {
                    "resourceType": "DetectedIssue",
                    "id": "d",
                    "implicated": [{"reference": "#missing"}],
                },
                "ref-1",
            ),
        ],
    )
    def test_a_broken_datatype_is_named_with_its_invariant(
        self, resource: dict[str, Any], broken: str
    ) -> None:
        assert broken in keys(r4_errors(resource))

    def test_a_datatype_with_rules_this_check_does_not_know_is_reported(self) -> None:
        statement = {
            "resourceType": "Observation",
            "id": "o",
            "valueSampledData": {"origin": {"value": 0}, "period": 1, "dimensions": 1},
        }
        assert any("SampledData has R4 invariants" in e for e in r4_errors(statement))

    def test_the_rules_cite_the_r4_specification(self) -> None:
        rules = [i for group in (*UNPROFILED.values(), *DATATYPES.values()) for i in group]
        assert len(rules) > 20
        assert all(i.source.startswith("http://hl7.org/fhir/R4/") for i in rules)


class TestTheBundleItself:
    def test_a_repeated_full_url_breaks_bdl_7_and_a_request_in_a_collection_bdl_3(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        assert bundle_r4_errors(bundle) == []
        twice = {**bundle, "entry": [*bundle["entry"], bundle["entry"][0]]}
        assert "bdl-7" in keys(bundle_r4_errors(twice))
        first = {**bundle["entry"][0], "request": {"method": "PUT", "url": "Patient/x"}}
        requested = {**bundle, "entry": [first, *bundle["entry"][1:]]}
        assert "bdl-3" in keys(bundle_r4_errors(requested))

    def test_the_transaction_export_keeps_the_bundle_rules(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, transaction=True)
        assert bundle["type"] == "transaction"
        assert {e["request"]["method"] for e in bundle["entry"]} == {"PUT"}
        assert bundle_errors(bundle) == {}  # every resource, and bdl-3 (each has a request)

    def test_the_story_export_has_no_base_r4_failure_in_any_resource(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        assert bundle_errors(bundle) == {}
        assert all(r4_errors(e["resource"]) == [] for e in bundle["entry"])
