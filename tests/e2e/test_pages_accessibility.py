"""Accessible markup on every page: a language, one h1 and no skipped heading levels, a
label for every control, a name for every button, the chart described in words, and a
keyboard path through the pages."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.test_pages_alerts import patient_with_alert

pytestmark = [pytest.mark.browser, pytest.mark.store_independent]  # one store: tests/conftest.py

AUDIT = """
const problems = [];
if (!document.documentElement.lang) problems.push("no lang on <html>");
const h1 = document.querySelectorAll("h1");
if (h1.length !== 1) problems.push(`${h1.length} h1 elements`);
let level = 0;
for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
  const next = Number(h.tagName[1]);
  if (next > level + 1) problems.push(`${h.tagName} "${h.textContent.trim()}" skips a level`);
  level = next;
}
for (const c of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
  const labelled = (c.id && document.querySelector(`label[for="${c.id}"]`))
    || c.closest("label") || c.getAttribute("aria-label") || c.getAttribute("aria-labelledby");
  if (!labelled) problems.push(`control ${c.name || c.id} has no label`);
}
for (const b of document.querySelectorAll("button, a[href]")) {
  if (!(b.textContent.trim() || b.getAttribute("aria-label"))) {
    problems.push(`unnamed ${b.outerHTML}`);
  }
}
for (const svg of document.querySelectorAll("svg")) {
  if (!svg.getAttribute("role") || !svg.getAttribute("aria-labelledby")) {
    problems.push("svg without a name");
  }
}
for (const t of document.querySelectorAll("table")) {
  if (!t.querySelector("th")) problems.push("table without header cells");
}
return problems;
"""


def problems(b: Browser) -> list[str]:
    found: list[str] = b.driver.execute_script(AUDIT)
    return found


class TestMarkup:
    def test_every_page_has_a_language_one_h1_labelled_controls_and_named_buttons(
        self, browser, live: LiveServer
    ):
        pid, _ = patient_with_alert(live)
        live.prescribe(pid, "sertraline", 50)
        anonymous = browser(None).open("/login")
        assert problems(anonymous) == []
        for who, paths in (
            (
                "psychiatrist",
                ["/dashboard", "/alerts", "/outcomes", f"/patients/{pid}", "/account"],
            ),
            ("auditor", ["/audit-review", f"/patients/{pid}"]),
        ):
            b = browser(who)
            for path in paths:
                b.open(path)
                assert problems(b) == [], (who, path)

    def test_the_chart_is_described_in_words_and_given_as_a_table(self, browser, live: LiveServer):
        pid = live.register_patient("MRN-E2E-AX", "Rowan Readable")
        order = live.prescribe(pid, "sertraline", 50)
        live.change_dose(pid, order, 100)
        b = browser("therapist").open(f"/patients/{pid}")
        description = b.find("#chart-desc").get_attribute("textContent")
        assert "sertraline: 2 dose step(s), 50 to 100 mg/day" in description
        assert b.find("#chart-data caption")


class TestKeyboard:
    def test_a_clinician_reaches_a_patients_timeline_from_the_dashboard_by_keyboard(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-KB", "Kai Keyboard")
        b = browser("psychiatrist")
        body = b.find("body")
        body.send_keys(Keys.TAB)
        active = b.driver.switch_to.active_element
        assert active.get_attribute("class") == "skip-link"  # the first stop
        active.send_keys(Keys.ENTER)
        for _ in range(10):  # on through the page to the patient's link
            b.driver.switch_to.active_element.send_keys(Keys.TAB)
            active = b.driver.switch_to.active_element
            if active.tag_name == "summary":  # quiet patients are folded: open them
                active.send_keys(Keys.ENTER)
            if b.driver.switch_to.active_element.text == "Kai Keyboard":
                break
        b.driver.switch_to.active_element.send_keys(Keys.ENTER)
        b.arrive(f"/patients/{pid}")
        assert b.text("h1") == "Kai Keyboard"
