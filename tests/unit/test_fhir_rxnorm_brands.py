"""Brand names in the FHIR export: the brand's RxNorm code beside the ingredient's, only when
the prescription named the brand, and every brand code in the table checked and sourced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.safety.drugs import normalise_name
from domain.safety.pack import default_pack
from services.interop.fhir import build_bundle
from services.interop.fhir.medications import drug_concept
from services.interop.fhir.rxnorm import Brand, brands_by_name
from services.writing.commands import Commands
from tests.fhir_support import check_bundle, of_type
from tests.unit.record_builder import new_story, prescribed

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# A fake table: the behaviour does not depend on which brands have a checked code yet.
# "TEST-BN-…" are not RxCUIs and never leave this file.
FAKE_BRANDS = brands_by_name(
    [
        Brand("Zoloft", "TEST-BN-ZOLOFT", frozenset({"sertraline"})),
        Brand("Effexor XR", "TEST-BN-EFFEXOR-XR", frozenset({"venlafaxine"})),
        Brand("Wellbutrin", "TEST-BN-WELLBUTRIN", frozenset({"bupropion"})),
        Brand("Paxlovid", "TEST-BN-PAXLOVID", frozenset({"nirmatrelvir", "ritonavir"})),
        Brand("Symbyax", "TEST-BN-SYMBYAX", frozenset({"olanzapine", "fluoxetine"})),
    ]
)


def resolved(typed: str) -> dict[str, Any]:
    """The drug as a prescription of ``typed`` records it."""
    return Commands(None, None, pack=default_pack()).resolve_drug(typed)  # type: ignore[arg-type]


def codes(concept: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(c["code"], c.get("display")) for c in concept.get("coding", [])]


class TestBrandCoding:
    @pytest.mark.parametrize("typed", ["Zoloft", "zoloft 50 mg", "Zoloft 100 mg tablet"])
    def test_a_named_brand_is_coded_beside_the_ingredient(self, typed: str) -> None:
        concept = drug_concept(resolved(typed), FAKE_BRANDS)
        assert concept["text"] == typed
        assert codes(concept) == [("36437", "sertraline"), ("TEST-BN-ZOLOFT", "Zoloft")]

    @pytest.mark.parametrize("typed", ["sertraline", "Sertraline HCl 50 mg"])
    def test_the_generic_name_gets_no_brand_code(self, typed: str) -> None:
        assert codes(drug_concept(resolved(typed), FAKE_BRANDS)) == [("36437", "sertraline")]

    def test_a_brand_whose_name_states_its_form_keeps_the_form(self) -> None:
        xr = drug_concept(resolved("Effexor XR 75 mg"), FAKE_BRANDS)
        assert codes(xr) == [("39786", "venlafaxine"), ("TEST-BN-EFFEXOR-XR", "Effexor XR")]
        assert {e["valueString"] for e in xr["extension"]} == {"venlafaxine", "XR"}
        # "Effexor" alone is another brand concept, without a checked code here
        assert codes(drug_concept(resolved("Effexor"), FAKE_BRANDS)) == [("39786", "venlafaxine")]

    def test_a_release_form_is_not_read_as_the_plain_brand(self) -> None:
        # Wellbutrin XL and Wellbutrin SR are brands of their own: not coded as Wellbutrin
        assert codes(drug_concept(resolved("Wellbutrin XL"), FAKE_BRANDS)) == [
            ("42347", "bupropion")
        ]
        assert codes(drug_concept(resolved("Wellbutrin"), FAKE_BRANDS))[-1] == (
            "TEST-BN-WELLBUTRIN",
            "Wellbutrin",
        )

    def test_a_brand_that_holds_more_than_the_drug_resolved_is_not_coded(self) -> None:
        # the pack reads "Paxlovid" as ritonavir (its interacting part); the brand is a
        # combination, so its code would claim nirmatrelvir on a ritonavir order
        drug = resolved("Paxlovid")
        assert drug["generic"] == "ritonavir"
        assert "TEST-BN-PAXLOVID" not in dict(codes(drug_concept(drug, FAKE_BRANDS)))

    def test_a_combination_product_carries_its_brand_code(self) -> None:
        drug = resolved("Symbyax 6/25")
        assert codes(drug_concept(drug, FAKE_BRANDS)) == [("TEST-BN-SYMBYAX", "Symbyax")]

    def test_a_prescriber_given_brand_code_is_named_as_the_brand(self) -> None:
        drug = {**resolved("Zoloft"), "rxnorm": "TEST-BN-ZOLOFT"}
        assert codes(drug_concept(drug, FAKE_BRANDS)) == [
            ("TEST-BN-ZOLOFT", "Zoloft"),
            ("36437", "sertraline"),
        ]

    def test_a_brand_prescription_exports_conformant_with_only_checked_codes(self) -> None:
        story = new_story("MRN-BRAND", "Brand Named")
        prescribed(story, resolved("Zoloft 50 mg"), {"amount": 50, "unit": "mg"})
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)  # US Core MedicationRequest and base R4 invariants included
        table = json.loads(Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8"))
        checked = set(table["ingredients"].values()) | {b["code"] for b in table["brands"].values()}
        (request,) = of_type(bundle, "MedicationRequest")
        concept = request["medicationCodeableConcept"]
        assert concept["text"] == "Zoloft 50 mg"
        assert codes(concept)[0] == ("36437", "sertraline")
        assert all(c["system"] == RXNORM and c["code"] in checked for c in concept["coding"])


class TestBrandTable:
    def test_a_zoloft_order_exports_the_checked_brand_code_beside_sertraline(self) -> None:
        # the real table: Zoloft's BN concept (82728), checked against two recorded RxNav
        # responses, is not sertraline's ingredient code
        concept = drug_concept(resolved("Zoloft 50 mg"))
        assert codes(concept) == [("36437", "sertraline"), ("82728", "Zoloft")]
        assert codes(drug_concept(resolved("sertraline 50 mg"))) == [("36437", "sertraline")]

    def test_every_brand_code_is_checked_and_names_a_brand_of_its_drugs(self) -> None:
        pack = json.loads(Path("domain/safety/rulepack.json").read_text(encoding="utf-8"))
        table = json.loads(Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8"))
        brands, sources = table["brands"], table["brand_sources"]
        assert set(sources) == set(brands)  # every brand code says how it was checked
        assert all(sources[name].strip() for name in brands)
        codes_seen = set(table["ingredients"].values())
        names_of: dict[frozenset[str], set[str]] = {}
        for key, drug in pack["drugs"].items():
            names = {key, drug.get("display", key), *drug.get("aliases", [])}
            names_of.setdefault(frozenset({key}), set()).update(map(normalise_name, names))
        for key, product in pack["combinations"].items():
            names = {key, product.get("display", key), *product.get("aliases", [])}
            names_of.setdefault(frozenset(product["ingredients"]), set()).update(
                map(normalise_name, names)
            )
        for name, entry in brands.items():
            assert entry["code"].isdigit()
            assert entry["code"] not in codes_seen
            codes_seen.add(entry["code"])
            assert set(entry["ingredients"]) <= set(table["ingredients"])
            # the brand is one the pack knows for exactly those drugs, so a prescription
            # that names it resolves to them
            assert normalise_name(name) in names_of.get(frozenset(entry["ingredients"]), set())
