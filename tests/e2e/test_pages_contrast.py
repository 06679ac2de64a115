"""Contrast: every visible text on every page meets WCAG AA (4.5:1, 3:1 for large text),
computed in the browser from the styles it applied (``page_checks.CONTRAST``)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.page_checks import contrast_problems, full_record, visit_every_page

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py


def assert_readable(b: Browser, where: str) -> None:
    checked, problems = contrast_problems(b)
    assert checked > 5, f"{where}: only {checked} texts found (is the page there?)"
    assert problems == [], f"{where}: {problems}"


class TestContrast:
    def test_every_text_on_every_page_meets_wcag_aa_contrast(self, browser, live: LiveServer):
        b = browser(None)
        for where in visit_every_page(b, full_record(live)):
            assert_readable(b, where)

    def test_the_sign_in_error_and_an_error_flash_meet_wcag_aa_contrast(
        self, browser, live: LiveServer
    ):
        full_record(live)
        b = browser(None)
        b.expect_error_status("/login", 401)
        b.open("/login")
        b.find("#token").send_keys("not-a-token")
        b.submit("#sign-in")
        b.wait_for(lambda d: b.find_all("#sign-in-error"))
        assert_readable(b, "/login with an error")
        b.sign_in(live.team.tokens["pharmacist"])
        b.open("/alerts")
        b.submit(".alert-card button.override")  # no reason given: an error flash
        b.wait_for(lambda d: b.find_all(".flash-error"))
        assert_readable(b, "/alerts with an error flash")

    def test_the_check_finds_text_too_faint_to_read(self, browser, live: LiveServer):
        b = browser(None).open("/login")
        b.driver.execute_script(
            "const p = document.createElement('p'); p.textContent = 'faint';"
            "p.className = 'flash'; p.style.color = '#999';"  # grey on the flash's wash
            "document.querySelector('main').appendChild(p);"
        )
        _, problems = contrast_problems(b)
        assert [p["text"] for p in problems] == ["faint"]


class TestContrastUnderThePointer:
    def test_buttons_and_header_links_stay_readable_under_the_pointer(
        self, browser, live: LiveServer
    ):
        ids = full_record(live)
        b = browser("psychiatrist")
        for path in (f"/patients/{ids['pid']}", "/alerts"):
            b.open(path)
            kinds = {}  # one control of each look (tag and classes) is enough
            for c in b.find_all("button, .site-header a, .button"):
                if c.is_displayed():
                    kinds.setdefault((c.tag_name, c.get_attribute("class")), c)
            assert len(kinds) >= 3
            for control in kinds.values():
                ActionChains(b.driver).move_to_element(control).perform()
                _, problems = contrast_problems(b)
                assert problems == [], f"{path}, pointer on {control.text!r}: {problems}"
