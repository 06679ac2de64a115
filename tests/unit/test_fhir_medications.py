"""Medication orders in the FHIR export: a request per version, chained and stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.safety.pack import default_pack
from services.interop.fhir import build_bundle
from services.interop.fhir.medications import drug_concept
from services.interop.fhir.references import instant
from services.interop.fhir.taper import TaperStep, read_taper
from services.writing.commands import Commands
from tests.fhir_support import PSY, Story, check_bundle, day, of_type, tell_story
from tests.unit.record_builder import new_story, prescribed, registered


def requests_in_order(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The requests of one order from first to last, following priorPrescription."""
    requests = of_type(bundle, "MedicationRequest")
    by_url = {f"urn:uuid:{r['id']}": r for r in requests}
    replaced = {r["priorPrescription"]["reference"] for r in requests if "priorPrescription" in r}
    (last,) = [r for r in requests if f"urn:uuid:{r['id']}" not in replaced]
    chain = [last]
    while "priorPrescription" in chain[0]:
        chain.insert(0, by_url[chain[0]["priorPrescription"]["reference"]])
    assert len(chain) == len(requests)
    return chain


def order_statements(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of orders (not those of trials: ``test_fhir_trials.py``)."""
    return [s for s in of_type(bundle, "MedicationStatement") if "category" not in s]


def dose(request: dict[str, Any]) -> float:
    return float(request["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"])


class TestRequestVersions:
    def test_a_dose_change_is_a_new_request_pointing_at_the_one_it_replaces(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(30))
        first, second = requests_in_order(bundle)
        assert (dose(first), dose(second)) == (50, 100)
        assert first["status"] == "stopped"
        assert first["statusReason"]["text"] == "Dose changed: Partial response"
        assert second["status"] == "active"
        assert "statusReason" not in second

    def test_before_the_change_there_is_one_active_request(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(5))
        (only,) = of_type(bundle, "MedicationRequest")
        assert only["status"] == "active"
        assert dose(only) == 50

    def test_discontinuation_stops_the_last_request_with_reason_and_taper(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        first, second = requests_in_order(bundle)
        assert [first["status"], second["status"]] == ["stopped", "stopped"]
        assert second["statusReason"]["text"] == (
            "Discontinued: Remission. Taper: 50 mg for 2 weeks, then stop"
        )

    def test_dosage_carries_dose_route_timing_and_drug_code(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(5))
        (request,) = of_type(bundle, "MedicationRequest")
        dosage = request["dosageInstruction"][0]
        assert dosage["doseAndRate"][0]["doseQuantity"] == {
            "value": 50,
            "unit": "mg",
            "system": "http://unitsofmeasure.org",
            "code": "mg",
        }
        assert dosage["timing"]["repeat"] == {"frequency": 1, "period": 1, "periodUnit": "d"}
        assert dosage["route"] == {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral route"}
            ],
            "text": "oral",
        }
        assert dosage["patientInstruction"] == "Take with breakfast"
        coding = request["medicationCodeableConcept"]["coding"][0]
        assert coding["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
        assert coding["code"] == "36437"
        assert request["intent"] == "order"

    def test_a_pack_drug_without_a_given_code_carries_its_ingredient_rxcui(self) -> None:
        effexor = {
            "name": "Effexor XR",
            "generic": "venlafaxine",
            "rxnorm": None,
            "formulation": "XR",
        }
        assert drug_concept(effexor) == {
            "extension": [
                {
                    "url": "https://carelog.example/fhir/StructureDefinition/generic",
                    "valueString": "venlafaxine",
                },
                {
                    "url": "https://carelog.example/fhir/StructureDefinition/formulation",
                    "valueString": "XR",
                },
            ],
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "39786",
                    "display": "venlafaxine",
                }
            ],
            "text": "Effexor XR",
        }
        assert drug_concept({"name": "zz-unlisted", "generic": None}) == {"text": "zz-unlisted"}

    def test_a_late_entered_change_slots_in_where_it_happened(self) -> None:
        record = registered(CommandContext(PSY, now=day(0)), "MRN-LATE", "Late Entry", "1990-01-01")
        order = str(uuid4())
        record.prescribe(
            CommandContext(PSY, now=day(1)),
            c.Prescribe(
                dose=Dose(20, "mg"),
                frequency="twice daily",
                route="oral",
                indication="depression",
                drug="fluoxetine",
            ),
            order_id=order,
            drug={"name": "fluoxetine"},
        )
        record.change_dose(
            CommandContext(PSY, now=day(10)),
            c.ChangeDose(order_id=order, dose=Dose(40, "mg"), reason="titration"),
        )
        record.change_dose(
            CommandContext(PSY, now=day(12)),
            c.ChangeDose(
                order_id=order, dose=Dose(30, "mg"), reason="step told late", effective_at=day(5)
            ),
        )
        story = Story(record, events=list(record.collect_events()))
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        chain = requests_in_order(bundle)
        assert [dose(r) for r in chain] == [20, 30, 40]
        assert [r["status"] for r in chain] == ["stopped", "stopped", "active"]
        assert chain[1]["statusReason"]["text"] == "Dose changed: titration"
        assert chain[0]["dosageInstruction"][0]["timing"]["repeat"]["frequency"] == 2


class TestCurrentList:
    def test_statement_and_list_show_what_is_taken_as_of_the_time(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(30))
        (statement,) = order_statements(bundle)
        assert statement["status"] == "active"
        assert dose({"dosageInstruction": statement["dosage"]}) == 100
        assert statement["basedOn"][0]["reference"] == (
            f"urn:uuid:{requests_in_order(bundle)[-1]['id']}"
        )
        (current,) = of_type(bundle, "List")
        assert [e["item"]["reference"] for e in current["entry"]] == [f"urn:uuid:{statement['id']}"]

    def test_after_discontinuation_the_list_is_empty(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        (statement,) = order_statements(bundle)
        assert statement["status"] == "stopped"
        assert "end" in statement["effectivePeriod"]
        (current,) = of_type(bundle, "List")
        assert "entry" not in current
        assert current["emptyReason"]["coding"][0]["code"] == "nilknown"


class TestRxNormData:
    def test_every_code_names_a_rule_pack_drug_and_is_an_rxcui(self) -> None:
        pack = json.loads(Path("domain/safety/rulepack.json").read_text(encoding="utf-8"))
        data = json.loads(Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8"))
        assert data["source"] == "RxNorm (NLM)"
        ingredients = data["ingredients"]
        assert set(ingredients) <= set(pack["drugs"])
        assert all(code.isdigit() for code in ingredients.values())
        assert len(set(ingredients.values())) == len(ingredients)  # no code named twice

    def test_every_pack_drug_has_a_checked_code_or_is_named_unverified(self) -> None:
        pack = json.loads(Path("domain/safety/rulepack.json").read_text(encoding="utf-8"))
        data = json.loads(Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8"))
        coded, unverified = set(data["ingredients"]), set(data["unverified"])
        assert not coded & unverified
        assert coded | unverified == set(pack["drugs"])  # a new pack drug needs a decision
        assert set(data["sources"]) == coded  # every code says how it was checked
        assert all(data["sources"][name].strip() for name in coded)
        for product in pack["combinations"].values():  # each ingredient of a combination
            assert set(product["ingredients"]) <= coded | unverified

    def test_codes_checked_against_public_listings_are_the_listed_ones(self) -> None:
        ingredients = json.loads(
            Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8")
        )["ingredients"]
        # spot checks against the CPIC drug table and VSAC 2.16.840.1.113883.3.526.3.1489
        assert ingredients["iloperidone"] == "73178"
        assert ingredients["brexpiprazole"] == "1658314"
        assert ingredients["valproate"] == "11118"
        assert ingredients["ramipril"] == "35296"
        assert ingredients["viloxazine"] == "11196"
        # RxClass H02AB members (TTY IN), OMOP RxNorm Ingredient records, PharmGKB cross-refs
        assert ingredients["prednisolone"] == "8638"
        assert ingredients["chlorthalidone"] == "2409"
        assert ingredients["zolmitriptan"] == "135775"
        assert ingredients["imipenem"] == "5690"
        # PharmGKB cross-refs (SSSOM export): the carbapenems, triptans and the 700810 that
        # settles lisdexamfetamine between the two public tables that disagreed
        assert ingredients["meropenem"] == "29561"
        assert ingredients["rizatriptan"] == "88014"
        assert ingredients["lisdexamfetamine"] == "700810"
        assert ingredients["chlorpheniramine"] == "2400"

    @pytest.mark.parametrize(
        ("typed", "code", "generic"),
        [
            ("Latuda", "1040028", "lurasidone"),
            ("Depakote", "11118", "valproate"),
            ("Fetzima", "1433212", "levomilnacipran"),
            ("Rexulti", "1658314", "brexpiprazole"),
        ],
    )
    def test_a_brand_name_exports_its_ingredient_code(
        self, typed: str, code: str, generic: str
    ) -> None:
        commands = Commands(None, None, pack=default_pack())  # type: ignore[arg-type]
        drug = commands.resolve_drug(typed)  # as a prescription resolves the typed name
        assert drug["generic"] == generic
        concept = drug_concept(drug)
        assert concept["text"] == typed
        assert concept["coding"] == [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": code,
                "display": generic,
            }
        ]


class TestCombinationProducts:
    def test_a_combination_is_a_medication_whose_ingredients_carry_their_rxnorm_codes(
        self,
    ) -> None:
        drug = Commands(None, None, pack=default_pack()).resolve_drug("Symbyax")  # type: ignore[arg-type]
        assert drug["ingredients"] == ["olanzapine", "fluoxetine"]
        story = new_story("MRN-COMBO", "Combo Product")
        prescribed(story, drug, {"amount": 1, "unit": "capsule"}, "bipolar depression")
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)  # US Core Medication and base R4 invariants included
        (product,) = of_type(bundle, "Medication")
        assert product["code"]["text"] == "Symbyax"
        assert [i["itemCodeableConcept"]["coding"] for i in product["ingredient"]] == [
            [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": c, "display": n}]
            for n, c in (("olanzapine", "61381"), ("fluoxetine", "4493"))
        ]
        pointer = {"reference": f"urn:uuid:{product['id']}", "type": "Medication"}
        (request,) = of_type(bundle, "MedicationRequest")
        (statement,) = [s for s in of_type(bundle, "MedicationStatement") if "category" not in s]
        assert request["medicationReference"] == pointer
        assert statement["medicationReference"] == pointer
        assert "medicationCodeableConcept" not in request

    def test_every_combination_in_the_pack_names_ingredients_the_export_can_code(self) -> None:
        commands = Commands(None, None, pack=default_pack())  # type: ignore[arg-type]
        pack = json.loads(Path("domain/safety/rulepack.json").read_text(encoding="utf-8"))
        data = json.loads(Path("services/interop/fhir/rxnorm.json").read_text(encoding="utf-8"))
        for product in pack["combinations"].values():
            drug = commands.resolve_drug(product["display"])
            assert drug["ingredients"] == product["ingredients"]
            coded = [i for i in drug["ingredients"] if i in data["ingredients"]]
            assert set(drug["ingredients"]) - set(coded) <= set(data["unverified"])


class TestTaper:
    def test_the_statement_runs_until_the_taper_ends_in_sequenced_steps(self) -> None:
        story = tell_story()
        bundle = build_bundle(story.history(), story.patient_id)
        (statement,) = order_statements(bundle)
        assert statement["status"] == "stopped"
        assert statement["effectivePeriod"]["end"] == instant(day(74))  # 2 weeks after day 60
        maintenance, step = statement["dosage"]
        assert (maintenance["sequence"], step["sequence"]) == (1, 2)
        assert maintenance["timing"]["repeat"]["boundsPeriod"]["end"] == instant(day(60))
        assert step["doseAndRate"][0]["doseQuantity"]["value"] == 50
        assert step["timing"]["repeat"]["boundsPeriod"] == {
            "start": instant(day(60)),
            "end": instant(day(74)),
        }

    def test_a_taper_that_is_not_dose_for_duration_stays_text(self) -> None:
        assert read_taper("halve for 2 weeks, then stop") is None
        assert read_taper("25 mg, then stop") is None
        assert read_taper("50 mg for 2 weeks, then 25 mg for 1 week, then stop") == [
            TaperStep(50.0, "mg", 14),
            TaperStep(25.0, "mg", 7),
        ]
