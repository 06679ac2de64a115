"""The chart's range survives the timeline's other controls in Chromium: a new point in
time, back to now, an entry filter and "show all" keep the range chosen, and choosing a
range keeps the filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.support.ui import Select

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser

MODERATE = [2, 2, 2, 2, 1, 1, 1, 1, 0]  # PHQ-9 12
MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # PHQ-9 6


def query(b: Browser) -> dict[str, list[str]]:
    return parse_qs(urlsplit(b.driver.current_url).query)


def shown_range(b: Browser) -> str:
    [current] = [a.get_attribute("id") for a in b.find_all(".chart-range a[aria-current]")]
    assert b.find("figure.chart").get_attribute("data-range") == current.removeprefix("range-")
    return current.removeprefix("range-")


class TestTheChartRangeIsKept:
    def test_through_a_point_in_time_back_to_now_a_filter_and_show_all(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-KEEP", "Kit Keeprange")
        long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
        live.phq9(pid, MODERATE, effective_at=long_ago)
        live.phq9(pid, MILD)
        live.prescribe(pid, "sertraline", 50)
        b: Browser = browser("psychiatrist").open(f"/patients/{pid}")
        b.submit("#range-90d")
        assert shown_range(b) == "90d"

        # A point in time: the entry after the second PHQ-9.
        options = Select(b.find("#as-of-entry"))
        second = [o.text for o in options.options if "Assessment recorded" in o.text][-1]
        options.select_by_visible_text(second)
        b.submit("#as-of-show")
        b.wait_for(lambda d: "as_of=" in d.current_url)
        assert shown_range(b) == "90d"
        assert len(b.find_all(".chart circle.score-point.phq9")) == 1

        b.submit("#back-to-now")
        b.wait_for(lambda d: "as_of=" not in d.current_url)
        assert shown_range(b) == "90d"

        # An entry filter keeps the range; a range chosen then keeps the filter.
        b.find("#kind-filter input[value='AssessmentRecorded']").click()
        b.submit("#kind-filter button[type=submit]")
        b.wait_for(lambda d: "kind=" in d.current_url)
        assert shown_range(b) == "90d"
        assert {r.get_attribute("data-type") for r in b.find_all("#timeline tr.event")} == {
            "AssessmentRecorded"
        }
        b.submit("#range-1y")
        assert shown_range(b) == "1y"
        assert query(b)["kind"] == ["AssessmentRecorded"]

        b.submit("#show-all-kinds")
        b.wait_for(lambda d: "kind=" not in d.current_url)
        assert shown_range(b) == "1y"
        assert query(b) == {"range": ["1y"]}
