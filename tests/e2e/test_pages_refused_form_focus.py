"""A refused recording form in Chromium: the timeline comes back with the form's message in
view and focused (not at the top of the page, with the message a long scroll below), so a
keyboard or screen-reader user lands on what to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.browser_support import Browser, LiveServer
from tests.e2e.test_pages_recording import answer_phq9, new_patients_timeline

pytestmark = pytest.mark.browser

IN_VIEW = """
const r = arguments[0].getBoundingClientRect();
return r.top >= 0 && r.top < window.innerHeight;
"""


def focused_id(b: Browser) -> str:
    return str(b.driver.execute_script("return document.activeElement.id"))


class TestARefusedFormIsBroughtIntoView:
    def test_a_phq9_with_an_item_unanswered_lands_on_its_error_summary(
        self, browser, live: LiveServer, size
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-FOCUS-1", "Fern Focuswell", "therapist", size=size
        )
        b.expect_error_status(f"/patients/{pid}/assessments", 422)
        answer_phq9(b, [1] * 8)  # item 9 left unanswered

        b.submit("#phq9-save")

        summary = b.find("#phq9-errors")
        assert "Item 9" in summary.text
        b.wait_for(lambda d: focused_id(b) == "phq9-errors")
        assert b.driver.execute_script(IN_VIEW, summary), "the message is out of sight"
        answered = b.find_all("#record-phq9 input[type=radio]:checked")
        assert len(answered) == 8  # what was entered is kept
        b.shot("refused-in-view")

    def test_a_completion_without_an_outcome_lands_on_the_outcome_field(
        self, browser, live: LiveServer
    ):
        pid = live.register_patient("MRN-E2E-FOCUS-2", "Gale Followup")
        due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        live.post(f"/api/v1/patients/{pid}/follow-ups", {"due_at": due, "purpose": "Check sleep"})
        b: Browser = browser("psychiatrist").open(f"/patients/{pid}")
        details = b.find("details.completion")
        details.find_element("css selector", "summary").click()
        form = details.find_element("css selector", "form")
        b.expect_error_status(form.get_attribute("action") or "", 422)

        b.submit("details.completion button.complete-follow-up")

        outcome = b.find("details.completion textarea[name='outcome']")
        assert outcome.get_attribute("aria-invalid") == "true"
        b.wait_for(lambda d: focused_id(b) == outcome.get_attribute("id"))
        assert b.driver.execute_script(IN_VIEW, outcome)
