"""The problem list, sex at birth and pregnancy status in the FHIR export."""

from __future__ import annotations

from typing import Any

import pytest

from domain.problem_list import SEXES_AT_BIRTH
from services.interop.fhir import build_bundle
from services.interop.fhir.references import resource_id
from tests.fhir_conformance import expand
from tests.fhir_support import PSY, Story, by_id, check_bundle, day, of_type
from tests.unit.record_builder import new_story, prescribed


def conditions(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["code"]["coding"][0]["code"]: c for c in of_type(bundle, "Condition")}


def coded(concept: dict[str, Any]) -> tuple[str, str]:
    return (concept["coding"][0]["system"], concept["coding"][0]["code"])


class TestProblemList:
    def test_a_recorded_condition_is_an_icd10_cm_problem_list_item(self, story: Story) -> None:
        before = build_bundle(story.history(), story.patient_id, as_of=day(63))
        anxiety = conditions(before)["F41.1"]
        assert anxiety["meta"]["profile"] == [
            "http://hl7.org/fhir/us/core/StructureDefinition/"
            "us-core-condition-problems-health-concerns|6.1.0"
        ]
        assert anxiety["code"]["coding"][0] == {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "F41.1",
            "display": "Generalized anxiety disorder",
        }
        assert anxiety["code"]["text"] == "Generalised anxiety disorder"
        assert coded(anxiety["category"][0])[1] == "problem-list-item"
        assert coded(anxiety["clinicalStatus"])[1] == "active"
        assert coded(anxiety["verificationStatus"])[1] == "provisional"
        assert anxiety["onsetDateTime"] == "2025-11-01"
        assert "abatementDateTime" not in anxiety

    def test_a_resolved_condition_stays_as_resolved_with_its_abatement(
        self, bundle: dict[str, Any]
    ) -> None:
        anxiety = conditions(bundle)["F41.1"]
        assert coded(anxiety["clinicalStatus"])[1] == "resolved"
        assert anxiety["abatementDateTime"] == "2026-03-16"
        assert anxiety["note"] == [{"text": "Resolved: Remission"}]

    def test_a_diagnosis_made_in_an_assessment_is_on_the_problem_list_until_resolved(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        before = build_bundle(story.history(), story.patient_id, as_of=day(70))
        assert coded(conditions(before)["F32.1"]["clinicalStatus"])[1] == "active"
        depression = conditions(bundle)["F32.1"]
        assert coded(depression["clinicalStatus"])[1] == "resolved"
        assert depression["abatementDateTime"] == "2026-03-16"
        assert depression["recorder"]["type"] == "Practitioner"


class TestSexAndPregnancy:
    def test_sex_at_birth_sets_the_birthsex_extension_and_gender(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        before = build_bundle(story.history(), story.patient_id, as_of=day(61))
        (patient,) = of_type(before, "Patient")
        assert patient["gender"] == "unknown"
        assert "extension" not in patient
        (patient,) = of_type(bundle, "Patient")
        assert patient["gender"] == "female"
        assert patient["extension"] == [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                "valueCode": "F",
            }
        ]
        observation = by_id(bundle)[("Observation", _observation_id(story, "sex_at_birth"))]
        assert coded(observation["code"]) == ("http://loinc.org", "76689-9")
        assert coded(observation["valueCodeableConcept"])[1] == "F"

    @pytest.mark.parametrize(
        ("sex", "code"),
        [("female", "F"), ("male", "M"), ("unknown", "UNK"), ("intersex", "UNK")],
    )
    def test_every_recorded_sex_at_birth_has_a_birthsex_code_us_core_allows(
        self, sex: str, code: str
    ) -> None:
        allowed = {c for _, c in expand("http://hl7.org/fhir/us/core/ValueSet/birthsex") or ()}
        assert allowed == {"M", "F", "ASKU", "UNK"}
        assert set(SEXES_AT_BIRTH) == {"female", "male", "intersex", "unknown"}
        story = new_story("MRN-SEX", "Birth Sex", "1990-01-01")
        story.act("sex", PSY, day(1), "record_sex_at_birth", sex_at_birth=sex)
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        (patient,) = of_type(bundle, "Patient")
        assert patient["extension"] == [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                "valueCode": code,
            }
        ]
        assert code in allowed
        (observation,) = [
            o for o in of_type(bundle, "Observation") if o["code"]["coding"][0]["code"] == "76689-9"
        ]
        assert observation["valueCodeableConcept"]["text"].lower() == sex

    def test_pregnancy_is_a_pregnancy_status_observation_with_its_due_date(
        self, story: Story, bundle: dict[str, Any]
    ) -> None:
        pregnant = by_id(bundle)[("Observation", _observation_id(story, "pregnant"))]
        assert coded(pregnant["code"]) == ("http://loinc.org", "82810-3")
        assert coded(pregnant["valueCodeableConcept"]) == ("http://snomed.info/sct", "77386006")
        assert pregnant["component"][0]["valueDateTime"] == "2026-10-01"
        lactating = by_id(bundle)[("Observation", _observation_id(story, "lactating"))]
        assert coded(lactating["code"]) == ("http://loinc.org", "63895-7")


def _observation_id(story: Story, name: str) -> str:
    return resource_id("Observation", story.ids[name])


class TestIndications:
    def test_a_request_whose_indication_names_a_condition_refers_to_it(self) -> None:
        story = new_story("MRN-IND", "Indi Cation")
        story.act(
            "condition",
            PSY,
            day(1),
            "record_condition",
            code="F41.1",
            display="Generalised anxiety disorder",
        )
        for indication in ("Generalised anxiety disorder", "anxiety"):
            escitalopram = {"name": "escitalopram"}
            dose = {"amount": 10, "unit": "mg"}
            prescribed(story, escitalopram, dose, indication, when=day(2), name=indication)
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        (condition,) = of_type(bundle, "Condition")
        reasons = {
            r["reasonCode"][0]["text"]: r.get("reasonReference")
            for r in of_type(bundle, "MedicationRequest")
        }
        assert reasons["Generalised anxiety disorder"] == [
            {"reference": f"urn:uuid:{condition['id']}", "type": "Condition"}
        ]
        assert reasons["anxiety"] is None  # similar words are not a diagnosis
