"""Readable on a tablet and a laptop: no page scrolls sideways as a whole (wide tables
scroll inside their own region), in a tablet's window (768 x 1024) and a laptop's."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.page_checks import full_record, overflow, visit_every_page

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

SIZES = {
    "tablet": (768, 1024),
    "laptop": (1366, 768),
}


def viewport(b: Browser, size: tuple[int, int] | None) -> None:
    """Lay the page out at ``size`` (``None``: the window's own), without resizing the
    window: quicker, and the page is not reloaded."""
    if size is None:
        b.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False}
    b.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


class TestLayout:
    def test_no_page_scrolls_sideways_on_a_tablet_or_a_laptop(self, browser, live: LiveServer):
        b = browser(None)
        try:
            for where in visit_every_page(b, full_record(live)):
                for name, size in SIZES.items():
                    viewport(b, size)
                    assert b.driver.execute_script("return innerWidth") == size[0]
                    found = overflow(b)
                    assert found["scrollWidth"] <= found["clientWidth"], (where, name, found)
                    assert found["sticking"] == [], (where, name, found)
            viewport(b, SIZES["tablet"])
            b.shot("tablet-last-page")
        finally:
            viewport(b, None)  # the driver goes back to the pool as it came

    def test_the_check_finds_a_page_that_scrolls_sideways(self, browser, live: LiveServer):
        b = browser(None, size=SIZES["tablet"]).open("/login")
        b.driver.execute_script(
            "const p = document.createElement('p'); p.textContent = 'wide';"
            "p.style.width = '900px'; document.querySelector('main').appendChild(p);"
        )
        found = overflow(b)
        assert found["scrollWidth"] > found["clientWidth"]
        assert found["sticking"]
