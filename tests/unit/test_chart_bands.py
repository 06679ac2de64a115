"""The chart's severity bands are named from the instruments' own bands, and an
as-needed frequency is told from a regular one."""

from __future__ import annotations

import pytest

from domain.safety.frequency import as_needed
from web.pages.chart_bands import severity_bands
from web.pages.chart_scale import SCORE_HEIGHT


def labels(instruments: list[str]) -> list[str]:
    return [b.label for b in severity_bands(instruments, 0.0, 0.0, 100.0)]


class TestSeverityBands:
    def test_phq9_alone_shows_its_five_bands(self) -> None:
        assert labels(["PHQ-9"]) == [
            "minimal",
            "mild",
            "moderate",
            "moderately severe",
            "severe",
        ]

    def test_where_phq9_and_gad7_differ_the_band_names_both(self) -> None:
        assert labels(["PHQ-9", "GAD-7"])[3] == "PHQ-9 moderately severe · GAD-7 severe"

    def test_the_bands_fill_the_score_panel_without_gaps(self) -> None:
        bands = severity_bands(["GAD-7"], 0.0, 0.0, 100.0)
        assert [b.label for b in bands] == ["minimal", "mild", "moderate", "severe"]
        assert bands[-1].y == 0.0  # the top band reaches the top of the panel
        assert bands[0].y + bands[0].height == SCORE_HEIGHT
        for upper, lower in zip(bands[1:], bands, strict=False):
            assert upper.y + upper.height == pytest.approx(lower.y)


class TestAsNeeded:
    @pytest.mark.parametrize(
        "frequency", ["as needed", "every 6 hours as needed", "p.r.n.", "PRN at night", "if needed"]
    )
    def test_an_as_needed_frequency_is_recognised(self, frequency: str) -> None:
        assert as_needed(frequency)

    @pytest.mark.parametrize("frequency", ["once daily", "twice daily with food", "at night"])
    def test_a_regular_frequency_is_not(self, frequency: str) -> None:
        assert not as_needed(frequency)
