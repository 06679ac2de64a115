"""Exports a receiver can import: versions, the view's tag, own identifiers, transactions."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from domain.errors import InvalidInputError
from services.interop.fhir import build_bundle
from services.interop.fhir.references import instant
from tests.fhir_support import Story, by_id, check_bundle, day, of_type


def tags(resource: dict[str, Any]) -> list[str]:
    return [t["code"] for t in resource["meta"]["tag"]]


class TestVersions:
    def test_a_statement_counts_its_versions_and_was_updated_at_the_last(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        # the order's statement (a trial's has a category: tests/unit/test_fhir_trials.py)
        (statement,) = [s for s in of_type(bundle, "MedicationStatement") if "category" not in s]
        # prescribed, dose changed, discontinued
        assert statement["meta"]["versionId"] == "3"
        assert statement["meta"]["lastUpdated"] == instant(story.at["discontinue"])
        before = build_bundle(story.history(), story.patient_id, as_of=day(5))
        (earlier,) = [s for s in of_type(before, "MedicationStatement") if "category" not in s]
        assert earlier["meta"]["versionId"] == "1"
        assert earlier["meta"]["lastUpdated"] == instant(story.at["prescribe"])

    def test_every_resource_says_which_view_it_comes_from(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        assert {tuple(tags(e["resource"])) for e in bundle["entry"]} == {("current",)}
        old = build_bundle(story.history(), story.patient_id, as_of=day(20))
        for entry in old["entry"]:
            meta = entry["resource"]["meta"]
            assert tags(entry["resource"]) == ["as-of"]
            assert meta["extension"][0]["valueDateTime"] == instant(day(20))
        in_effect = build_bundle(story.history(), story.patient_id, effective_at=day(20))
        assert {tuple(tags(e["resource"])) for e in in_effect["entry"]} == {("in-effect",)}

    def test_each_request_version_has_its_own_identifier_and_the_order_as_group(
        self, bundle: dict[str, Any]
    ) -> None:
        requests = of_type(bundle, "MedicationRequest")
        assert len(requests) == 2
        assert len({r["groupIdentifier"]["value"] for r in requests}) == 1
        own = [(i["system"], i["value"]) for r in requests for i in r["identifier"]]
        assert len(own) == len(set(own))


class TestTransaction:
    def test_the_current_record_as_conditional_puts(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, transaction=True)
        assert bundle["type"] == "transaction"
        resources = by_id(bundle)
        for entry in bundle["entry"]:
            resource, request = entry["resource"], entry["request"]
            assert request["method"] == "PUT"
            kind, _, query = request["url"].partition("?identifier=")
            assert kind.split("/")[0] == resource["resourceType"]
            if resource["resourceType"] == "Provenance":
                assert request["url"] == f"Provenance/{resource['id']}"
                continue
            system, _, value = query.partition("|")
            identifiers = resource["identifier"]
            identifiers = identifiers if isinstance(identifiers, list) else [identifiers]
            assert {"system": system, "value": value} in identifiers
        assert len(resources) == len(bundle["entry"])
        Bundle.model_validate(bundle)  # the R4B model of a transaction (bdl-3: checked above)
        collection = check_bundle(build_bundle(story.history(), story.patient_id))
        assert [e["resource"] for e in bundle["entry"]] == list(collection.values())

    @pytest.mark.parametrize("clock", ["as_of", "effective_at"])
    def test_a_past_or_in_effect_view_is_never_a_transaction(
        self, story: Story, clock: str
    ) -> None:
        with pytest.raises(InvalidInputError) as refused:
            build_bundle(story.history(), story.patient_id, transaction=True, **{clock: day(20)})
        assert refused.value.field == "type"
