"""Frequencies as prescribers write them, read as doses per day, and daily doses in mg."""

from __future__ import annotations

import pytest
from safety_cases import T0

from domain.safety import DoseStep, FrequencyError, daily_dose, doses_per_day

TABLE = [
    ("once daily", 1), ("Once Daily", 1), ("daily", 1), ("once a day", 1), ("QD", 1),
    ("every day", 1), ("twice daily", 2), ("BID", 2), ("b.i.d.", 2), ("2 times a day", 2),
    ("two times daily", 2), ("every 12 hours", 2), ("q12h", 2), ("three times daily", 3),
    ("TID", 3), ("3x daily", 3), ("every 8 hours", 3), ("q8h", 3), ("four times daily", 4),
    ("QID", 4), ("every 6 hours", 4), ("every 6 to 8 hours", 4), ("1-2 times daily", 2),
    ("at night", 1), ("at bedtime", 1), ("QHS", 1), ("nightly", 1), ("in the morning", 1),
    ("once daily at night", 1), ("once daily in the morning", 1), ("morning and night", 2),
    ("twice daily (morning and evening)", 2), ("at bedtime as needed", 1),
    ("weekly", 1 / 7), ("once weekly", 1 / 7), ("twice weekly", 2 / 7),
    ("every 2 weeks", 1 / 14), ("every other day", 0.5), ("QOD", 0.5),
    ("on alternate days", 0.5), ("every 72 hours", 1 / 3), ("every 3 days", 1 / 3),
]  # fmt: skip


class TestDosesPerDay:
    @pytest.mark.parametrize(("frequency", "expected"), TABLE)
    def test_common_frequencies_are_read_as_doses_per_day(
        self, frequency: str, expected: float
    ) -> None:
        assert doses_per_day(frequency) == pytest.approx(expected)

    @pytest.mark.parametrize(
        "frequency",
        ["", "   ", "as needed", "sometimes", "daily then 50 mg", "twice daily at night",
         "once daily morning and night", "every 0 hours", "once daily or twice daily"],
    )  # fmt: skip
    def test_unreadable_or_contradictory_frequencies_are_refused(self, frequency: str) -> None:
        with pytest.raises(FrequencyError):
            doses_per_day(frequency)

    def test_the_refusal_names_the_frequency_for_the_prescriber(self) -> None:
        with pytest.raises(FrequencyError, match="sometimes"):
            doses_per_day("sometimes")


class TestDailyDose:
    @pytest.mark.parametrize(
        ("amount", "unit", "frequency", "expected"),
        [(10, "mg", "twice daily", 20), (500, "mcg", "twice daily", 1.0),
         (0.5, "g", "once daily", 500), (12.5, "mg", "every 12 hours", 25),
         (25, "mg", "every other day", 12.5), (90, "mg", "weekly", 90 / 7)],
    )  # fmt: skip
    def test_daily_dose_is_amount_times_doses_per_day_in_mg(
        self, amount: float, unit: str, frequency: str, expected: float
    ) -> None:
        assert daily_dose(DoseStep(T0, amount, unit, frequency)) == pytest.approx(expected)

    def test_a_volume_is_kept_in_its_own_unit(self) -> None:
        assert daily_dose(DoseStep(T0, 5, "mL", "three times daily")) == pytest.approx(15)
