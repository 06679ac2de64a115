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


class TestTheRecordingFormsFitAPhone:
    def test_every_recording_form_opened_and_one_refused_fits_the_screen(
        self, browser, live: LiveServer
    ):
        pid = a_busy_patient(live)
        live.post(
            f"/api/v1/patients/{pid}/follow-ups",
            {"due_at": "2099-01-05T09:00:00+00:00", "purpose": "Review sodium and sleep"},
        )
        b: Browser = browser("therapist", size=PHONE)
        b.expect_error_status(f"/patients/{pid}/notes", 422)
        b.open(f"/patients/{pid}")
        b.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        # PHQ-9, GAD-7, note, side effect, follow-up; a completion for each follow-up
        # (this one and the check-in the dose change scheduled).
        assert len(b.find_all("#record details.record-form")) == 5
        assert len(b.find_all(".follow-up details.record-form")) == 2
        scroll, viewport = page_width(b)
        assert scroll <= viewport, wider_elements(b)
        b.shot("forms-open")

        b.submit("#note-save")  # nothing entered: refused, the messages beside the fields
        assert b.find_all("#note-modality-error")
        scroll, viewport = page_width(b)
        assert scroll <= viewport, wider_elements(b)
        b.shot("note-refused")
