"""An as-needed (PRN) drug in ``GET /api/v1/patients/{pid}/trials`` and the timeline's
trials table: the API keeps its numbers and says the dose is as needed; the page says
"as needed, up to ..." rather than a daily dose the patient never took."""

from __future__ import annotations

import re

from tests.api.conftest import ApiClient, prescribe
from tests.api.test_pages_http import SITE, sign_in
from tests.api.test_trials import days_ago, phq9, trials


def trial_row(page: str, drug: str) -> str:
    rows = re.findall(r'<tr class="trial".*?</tr>', page, re.S)
    [row] = [r for r in rows if f'<th scope="row">{drug}' in r]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))


class TestAnAsNeededDrug:
    def test_the_api_keeps_the_daily_maximum_and_says_it_is_as_needed(
        self, api: ApiClient, patient: str
    ) -> None:
        r = prescribe(
            api, patient, "lorazepam", 2, frequency="up to twice daily as needed",
            indication="anxiety", effective_at=days_ago(20),
        )  # fmt: skip
        assert r.status_code == 201, r.get_json()
        prescribe(api, patient, "sertraline", 50, effective_at=days_ago(20))

        by_drug = {t["drug"]: t for t in trials(api, patient)["trials"]}

        lorazepam = by_drug["lorazepam"]
        assert lorazepam["highest_mg_per_day"] == 4  # unchanged: the most in a day
        assert lorazepam["as_needed"] is True
        assert lorazepam["highest_regular_mg_per_day"] is None
        [step] = lorazepam["dose_steps"]
        assert (step["mg_per_day"], step["as_needed"]) == (4, True)
        sertraline = by_drug["sertraline"]
        assert (sertraline["as_needed"], sertraline["highest_regular_mg_per_day"]) == (False, 50)

    def test_the_timeline_shows_it_as_needed_up_to_its_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(
            api, patient, "lorazepam", 2, frequency="up to twice daily as needed",
            indication="anxiety", effective_at=days_ago(20),
        )  # fmt: skip
        prescribe(api, patient, "sertraline", 50, effective_at=days_ago(20))
        sign_in(api)

        page = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)

        assert "as needed, up to 4 mg/day" in trial_row(page, "lorazepam")
        assert "as needed" not in trial_row(page, "sertraline")
        assert "50 mg/day" in trial_row(page, "sertraline")

    def test_an_antidepressant_taken_as_needed_is_never_an_adequate_trial_by_its_maximum(
        self, api: ApiClient, patient: str
    ) -> None:
        phq9(api, patient, 20, at=75)
        r = prescribe(
            api, patient, "trazodone", 75, frequency="up to twice daily as needed",
            effective_at=days_ago(70),
        )  # fmt: skip
        assert r.status_code == 201, r.get_json()
        phq9(api, patient, 18, at=5)

        body = trials(api, patient)
        [trial] = body["trials"]

        assert trial["highest_mg_per_day"] == 150  # trazodone's minimum adequate dose
        assert trial["adequate"] is None
        assert trial["days_at_adequate_dose"] is None
        assert body["resistance"]["trial_ids"] == []
