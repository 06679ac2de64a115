"""Every page on a phone (390 x 844 CSS px, an iPhone 12-15): nothing wider than the
screen, so no page scrolls sideways; tables turn into cards; chart text stays readable."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

PHONE = (390, 844)
SUICIDE_ITEM = [2, 2, 2, 1, 1, 1, 1, 1, 2]
MIN_CHART_TEXT_PX = 10


def a_busy_patient(live: LiveServer) -> str:
    """A patient whose pages have everything to show: medication with changes, scores,
    alerts, a note, a side effect."""
    pid = live.register_patient("MRN-PHONE-0001", "Morgan Phonewright-Longername")
    order = live.prescribe(pid, "sertraline", 50)
    live.change_dose(pid, order, 100)
    live.phq9(pid, [1, 1, 1, 1, 1, 1, 1, 1, 0])
    live.gad7(pid, [2, 2, 1, 1, 1, 1, 1])
    live.phq9(pid, SUICIDE_ITEM, as_="therapist")
    live.post(
        f"/api/v1/patients/{pid}/side-effects",
        {"order_id": order, "effect": "nausea", "severity": "moderate"},
    )
    return pid


def page_width(b: Browser) -> tuple[int, int]:
    b.wait_for(lambda d: d.execute_script("return document.readyState") == "complete")
    scroll: int = b.driver.execute_script("return document.documentElement.scrollWidth")
    viewport: int = b.driver.execute_script("return document.documentElement.clientWidth")
    return scroll, viewport


def wider_elements(b: Browser) -> list[str]:
    """What sticks out past the right edge (for the failure message)."""
    found: list[str] = b.driver.execute_script(
        "const w = document.documentElement.clientWidth;"
        "return [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > w + 1)"
        ".slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' +"
        " Math.round(e.getBoundingClientRect().right));"
    )
    return found


class TestEveryPageFitsAPhone:
    @pytest.mark.parametrize(
        ("who", "page"),
        [
            (None, "/login"),
            ("psychiatrist", "/dashboard"),
            ("psychiatrist", "/patients/{pid}"),
            ("psychiatrist", "/alerts"),
            ("auditor", "/audit-review"),
            ("psychiatrist", "/account"),
        ],
    )
    def test_no_page_is_wider_than_the_screen(self, browser, live: LiveServer, who, page):
        pid = a_busy_patient(live)
        b: Browser = browser(who, size=PHONE)
        b.open(page.format(pid=pid))
        scroll, viewport = page_width(b)
        assert b.driver.execute_script("return window.innerWidth") == PHONE[0]
        assert scroll <= viewport, wider_elements(b)  # (viewport: less a desktop scrollbar)
        b.shot("phone")

    def test_the_timelines_chart_text_is_readable_on_a_phone(self, browser, live: LiveServer):
        pid = a_busy_patient(live)
        b: Browser = browser("psychiatrist", size=PHONE)
        b.open(f"/patients/{pid}")
        sizes: list[float] = b.driver.execute_script(  # the font size as drawn on screen
            "return [...document.querySelectorAll('.chart svg text')]"
            ".filter(t => t.textContent.trim())"
            ".map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);"
        )
        assert sizes
        assert min(sizes) >= MIN_CHART_TEXT_PX, sorted(sizes)[:5]
        scroll, viewport = page_width(b)
        assert scroll <= viewport  # the chart scrolls inside its frame, not the page
