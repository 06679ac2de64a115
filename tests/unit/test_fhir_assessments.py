"""PHQ-9 and GAD-7 in the FHIR export: LOINC panels, items, answers and totals."""

from __future__ import annotations

from typing import Any

import pytest

from services.interop.fhir import build_bundle
from tests.fhir_support import GAD7_ITEMS, Story, by_id, day, of_type

PHQ9_ITEM_CODES = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_ITEM_CODES = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
ANSWERS = {0: "LA6568-5", 1: "LA6569-3", 2: "LA6570-1", 3: "LA6571-9"}
CORRECTED_PHQ9 = [2, 2, 1, 1, 0, 1, 1, 0, 0]


def observation(bundle: dict[str, Any], code: str) -> dict[str, Any]:
    (found,) = [
        o
        for o in of_type(bundle, "Observation")
        if o["code"].get("coding", [{}])[0].get("code") == code
    ]
    return found


def response(bundle: dict[str, Any], panel: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in of_type(bundle, "QuestionnaireResponse")
        if r["questionnaire"] == f"http://loinc.org/q/{panel}"
    ]
    return found


class TestQuestionnaireResponses:
    @pytest.mark.parametrize(
        ("panel", "items", "scores"),
        [
            ("44249-1", PHQ9_ITEM_CODES, CORRECTED_PHQ9),
            ("69737-5", GAD7_ITEM_CODES, GAD7_ITEMS),
        ],
    )
    def test_items_carry_loinc_codes_and_answer_codes(
        self, story: Story, panel: str, items: list[str], scores: list[int]
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        answered = response(bundle, panel)["item"]
        assert [i["linkId"] for i in answered[:-1]] == items
        codings = [i["answer"][0]["valueCoding"] for i in answered[:-1]]
        assert [c["code"] for c in codings] == [ANSWERS[s] for s in scores]
        assert {c["system"] for c in codings} == {"http://loinc.org"}
        assert [c["extension"][0]["valueDecimal"] for c in codings] == scores
        assert answered[-1]["answer"][0]["valueInteger"] == sum(scores)


class TestObservations:
    @pytest.mark.parametrize(
        ("panel", "total", "items", "scores", "band"),
        [
            ("44249-1", "44261-6", PHQ9_ITEM_CODES, CORRECTED_PHQ9, "mild"),
            ("69737-5", "70274-6", GAD7_ITEM_CODES, GAD7_ITEMS, "mild"),
        ],
    )
    def test_panel_and_total_are_derived_from_the_response(
        self, story: Story, panel: str, total: str, items: list[str], scores: list[int], band: str
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        source = f"urn:uuid:{response(bundle, panel)['id']}"
        panel_obs, total_obs = observation(bundle, panel), observation(bundle, total)
        for obs in (panel_obs, total_obs):
            assert obs["derivedFrom"] == [{"reference": source, "type": "QuestionnaireResponse"}]
            assert obs["category"][0]["coding"][0]["code"] == "survey"
        assert total_obs["valueInteger"] == sum(scores)
        assert total_obs["interpretation"] == [{"text": band}]
        assert panel_obs["hasMember"][0]["reference"] == f"urn:uuid:{total_obs['id']}"
        components = panel_obs["component"]
        assert [c["code"]["coding"][0]["code"] for c in components] == items
        assert [c["valueCodeableConcept"]["coding"][0]["code"] for c in components] == [
            ANSWERS[s] for s in scores
        ]

    def test_a_corrected_score_is_rescored_and_marked(self, story: Story) -> None:
        before = build_bundle(story.history(), story.patient_id, as_of=day(26))
        after = build_bundle(story.history(), story.patient_id, as_of=day(28))
        assert observation(before, "44261-6")["valueInteger"] == 9
        assert observation(before, "44261-6")["status"] == "final"
        assert response(before, "44249-1")["status"] == "completed"
        assert observation(after, "44261-6")["valueInteger"] == 8
        assert observation(after, "44261-6")["status"] == "corrected"
        assert response(after, "44249-1")["status"] == "amended"

    def test_a_clinical_assessment_is_an_impression_with_icd10_cm_findings(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        (impression,) = [
            c
            for c in of_type(bundle, "ClinicalImpression")
            if c["code"]["text"] == "Clinical assessment"
        ]
        (finding,) = impression["finding"]
        assert finding["itemCodeableConcept"]["coding"][0] == {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "F32.1",
            "display": "Major depressive disorder, single episode, moderate",
        }
        condition = by_id(bundle)[
            ("Condition", finding["itemReference"]["reference"].removeprefix("urn:uuid:"))
        ]
        assert condition["code"] == finding["itemCodeableConcept"]
        assert impression["summary"] == "Moderate depressive episode."
