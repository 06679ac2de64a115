"""The timeline's chart: a range selector (90 days, a year, all), the PHQ-9/GAD-7 severity
bands behind the score lines, and an as-needed drug drawn as such, not as a steady dose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser

MODERATE = [2, 2, 2, 2, 1, 1, 1, 1, 0]  # PHQ-9 12
MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # PHQ-9 6
GAD = [2, 2, 2, 2, 2, 2, 3]  # GAD-7 15: severe


def phq9_points(b: Browser) -> int:
    return len(b.find_all(".chart circle.score-point.phq9"))


class TestTheChart:
    def test_the_range_selector_changes_what_is_drawn(self, browser, live: LiveServer):
        pid = live.register_patient("MRN-E2E-RANGE", "Robin Rangefield")
        long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
        live.phq9(pid, MODERATE, effective_at=long_ago)
        live.phq9(pid, MILD)
        b: Browser = browser("psychiatrist").open(f"/patients/{pid}")
        assert b.find("#range-all").get_attribute("aria-current") == "true"
        assert phq9_points(b) == 2
        axis_all = [t.text for t in b.find_all(".chart .x-label")]

        b.submit("#range-90d")
        assert b.find("#range-90d").get_attribute("aria-current") == "true"
        assert phq9_points(b) == 1  # the PHQ-9 of 200 days ago is before the range
        assert [t.text for t in b.find_all(".chart .x-label")] != axis_all
        assert len(b.find_all("#chart-data tr[data-series='score']")) == 1
        b.shot("90-days")

        b.submit("#range-1y")
        assert phq9_points(b) == 2

    def test_severity_bands_lie_behind_the_scores_and_an_as_needed_drug_is_hatched(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-BANDS", "Bea Bandwidth")
        live.prescribe(pid, "lorazepam", 1, frequency="every 6 hours as needed")
        live.phq9(pid, MODERATE)
        live.gad7(pid, GAD)
        b: Browser = browser("psychiatrist").open(f"/patients/{pid}")

        labels = [t.text for t in b.find_all(".chart .band-label")]
        assert labels == [
            "minimal",
            "mild",
            "moderate",
            "PHQ-9 moderately severe · GAD-7 severe",
            "severe",
        ]
        # Drawn first: every band comes before the score lines in the panel.
        order = b.driver.execute_script(
            "return [...document.querySelectorAll('.chart .band, .chart .score-line')]"
            ".map(e => e.classList.contains('band') ? 'band' : 'line');"
        )
        assert order == ["band"] * 5 + ["line", "line"]

        assert b.find_all(".chart .prn-band")  # hatched up to 1 mg per dose
        assert b.find_all(".chart .prn-point")
        assert b.find_all(".chart .dose-line") == []  # never a steady 4 mg/day line
        assert "mg per dose, as needed" in b.text(".chart-section")
        b.shot("bands-and-prn")
