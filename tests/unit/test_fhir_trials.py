"""Medication trials in the FHIR export: one MedicationStatement per trial, with its
period and outcome, valid against the R4B models."""

from __future__ import annotations

from typing import Any

from services.interop.fhir import build_bundle
from services.interop.fhir.trials import EXT_TRIAL_ADEQUATE, EXT_TRIAL_OUTCOME
from tests.fhir_support import Story, check_bundle, day, of_type


def trial_statements(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s
        for s in of_type(bundle, "MedicationStatement")
        if s.get("category", {}).get("text") == "Medication trial"
    ]


def extension(resource: dict[str, Any], url: str) -> Any:
    [found] = [e for e in resource["extension"] if e["url"] == url]
    return next(value for key, value in found.items() if key.startswith("value"))


class TestTrialStatements:
    def test_the_sertraline_trial_is_one_completed_statement_with_its_period_and_outcome(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id)
        check_bundle(bundle)
        [trial] = trial_statements(bundle)
        assert trial["status"] == "completed"
        assert trial["effectivePeriod"]["start"].startswith(day(2).date().isoformat())
        assert "end" in trial["effectivePeriod"]
        assert extension(trial, EXT_TRIAL_OUTCOME) in {
            "remission",
            "response",
            "partial response",
            "minimal improvement",
            "too early to judge",
            "not assessed",
        }
        assert trial["note"][0]["text"].startswith("Outcome: ")
        derived = trial["derivedFrom"][0]["reference"]
        assert derived in {f"urn:uuid:{s['id']}" for s in of_type(bundle, "MedicationStatement")}

    def test_while_it_runs_the_trial_is_active_without_an_end_and_not_yet_adequate(
        self, story: Story
    ) -> None:
        bundle = build_bundle(story.history(), story.patient_id, effective_at=day(12))
        check_bundle(bundle)
        [trial] = trial_statements(bundle)
        assert trial["status"] == "active"
        assert "end" not in trial["effectivePeriod"]
        assert extension(trial, EXT_TRIAL_ADEQUATE) is False  # 10 days at 50-100 mg

    def test_before_the_prescription_there_is_no_trial(self, story: Story) -> None:
        bundle = build_bundle(story.history(), story.patient_id, as_of=day(1.5))
        assert trial_statements(bundle) == []


class TestTrialNote:
    def test_an_as_needed_course_is_noted_as_needed_up_to_its_maximum(self) -> None:
        from domain.trial_outcomes import judge
        from domain.trials import trials
        from services.interop.fhir.trials import _note
        from tests.unit.test_trial_as_needed import PRN, at, order, plan

        [trial] = trials(plan(order("t", "lorazepam", [(0, 2, PRN)]), scores=[]))
        text = _note(judge(trial, at(10)))
        assert "as needed, up to 4 mg/day" in text
        assert "highest 4 mg/day" not in text
