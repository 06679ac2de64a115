"""PHQ-9 and GAD-7 scoring as a clinician reads it: bands at every boundary, bad items refused."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInputError
from domain.scoring import ANSWER_CODES, GAD7, PHQ9, score


def items(count: int, total: int) -> list[int]:
    scores = [0] * count
    for i in range(total):
        scores[i % count] += 1
    return scores


PHQ9_BANDS = [
    (0, 4, "minimal"),
    (5, 9, "mild"),
    (10, 14, "moderate"),
    (15, 19, "moderately severe"),
    (20, 27, "severe"),
]
"""Kroenke's bands: lowest and highest total of each."""
GAD7_BANDS = [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]
"""Spitzer's bands: lowest and highest total of each."""


def both_ends(
    instrument: str, count: int, bands: list[tuple[int, int, str]]
) -> list[tuple[str, int, int, str]]:
    """Each band's lowest and highest total, with the band it must fall in."""
    return [(instrument, count, t, band) for low, high, band in bands for t in (low, high)]


class TestBands:
    @pytest.mark.parametrize(
        ("instrument", "count", "total", "band"),
        both_ends("PHQ-9", 9, PHQ9_BANDS) + both_ends("GAD-7", 7, GAD7_BANDS),
    )
    def test_total_falls_in_its_published_band(
        self, instrument: str, count: int, total: int, band: str
    ) -> None:
        result = score(instrument, items(count, total))
        assert (result.total, result.severity) == (total, band)


class TestPhq9Bands:
    def test_item_nine_above_zero_is_marked(self) -> None:
        assert score("PHQ-9", [0] * 8 + [1]).suicide_item_positive
        assert not score("PHQ-9", [3] * 8 + [0]).suicide_item_positive

    def test_loinc_codes_are_carried(self) -> None:
        assert PHQ9.panel_loinc == "44249-1"
        assert PHQ9.total_loinc == "44261-6"
        assert PHQ9.item_loincs[8] == "44260-8"
        assert ANSWER_CODES == ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")


class TestGad7Bands:
    def test_loinc_codes_are_carried(self) -> None:
        assert (GAD7.panel_loinc, GAD7.total_loinc) == ("69737-5", "70274-6")
        assert len(GAD7.item_loincs) == 7


class TestBadScores:
    @pytest.mark.parametrize(
        ("instrument", "scores", "message"),
        [
            ("PHQ-9", [1] * 8, "PHQ-9 has 9 items; 8 item scores were given."),
            ("GAD-7", [1] * 9, "GAD-7 has 7 items; 9 item scores were given."),
            ("PHQ-9", [0] * 8 + [4], "PHQ-9 item 9 must be scored 0, 1, 2 or 3, not 4."),
            ("GAD-7", [-1] + [0] * 6, "GAD-7 item 1 must be scored 0, 1, 2 or 3, not -1."),
            ("GAD-7", [True] + [0] * 6, "GAD-7 item 1 must be scored 0, 1, 2 or 3, not True."),
            ("BDI", [0], "Unknown instrument 'BDI': use one of PHQ-9, GAD-7, clinical."),
        ],
    )
    def test_is_refused_with_a_message_naming_the_problem(
        self, instrument: str, scores: list[int], message: str
    ) -> None:
        with pytest.raises(InvalidInputError) as caught:
            score(instrument, scores)
        assert caught.value.message == message
        assert caught.value.field in {"item_scores", "instrument"}

    def test_clinical_assessment_takes_no_item_scores(self) -> None:
        assert score("clinical", []).total is None
        with pytest.raises(InvalidInputError):
            score("clinical", [1, 2])
