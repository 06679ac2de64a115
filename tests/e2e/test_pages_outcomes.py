"""The team-outcomes page: response and remission by drug class as a table and a chart,
with any class of fewer than 5 patients not shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.browser_support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

SEVERE = [3, 3, 3, 3, 2, 2, 2, 2, 0]  # PHQ-9 20
BETTER = [1, 1, 1, 1, 1, 1, 1, 1, 0]  # PHQ-9 8: a response
WELL = [1, 1, 1, 0, 0, 0, 0, 0, 0]  # PHQ-9 3: remission


def treated(live: LiveServer, n: int, drug: str, amount: float, latest: list[int]) -> None:
    now = datetime.now(UTC)
    for i in range(n):
        pid = live.register_patient(f"MRN-E2E-O-{uuid.uuid4().hex[:8]}", f"Olive {drug} {i}")
        live.phq9(pid, SEVERE, effective_at=(now - timedelta(days=75)).isoformat())
        live.prescribe(pid, drug, amount, effective_at=(now - timedelta(days=70)).isoformat())
        live.phq9(pid, latest)


class TestOutcomesPage:
    def test_rates_by_class_with_small_classes_withheld(self, browser, live: LiveServer):
        treated(live, 3, "sertraline", 50, BETTER)
        treated(live, 2, "sertraline", 50, WELL)
        treated(live, 2, "duloxetine", 60, WELL)

        b = browser("psychiatrist").open("/outcomes")

        ssri = b.find("#outcomes-table tr[data-class='SSRI']")
        assert ssri.find_element("css selector", ".response").text == "100 %"
        assert ssri.find_element("css selector", ".remission").text == "40 %"
        snri = b.find("#outcomes-table tr[data-class='SNRI']")
        assert "not shown" in snri.text
        assert "suppressed" in snri.get_attribute("class")
        bars = b.find_all("#outcomes-chart g[data-class='SSRI'] rect")
        assert [bar.get_attribute("class") for bar in bars] == ["bar-response", "bar-remission"]
        widths = [float(bar.get_attribute("width")) for bar in bars]
        assert widths[0] == pytest.approx(widths[1] / 0.4)  # 100 % against 40 %
        assert b.find_all("#outcomes-chart g[data-class='SNRI'] rect") == []
        b.shot("outcomes")

    def test_a_clinician_with_no_patients_sees_no_figures(self, browser, live: LiveServer):
        b = browser("psychiatrist").open("/outcomes")
        assert "No medication trials" in b.text("#no-outcomes")
