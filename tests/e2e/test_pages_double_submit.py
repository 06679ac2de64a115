"""A recording form sent twice from Chromium records once: the second post of the same
rendered form (a double click whose first request the browser gave up on, a form sent
again after going back) shows what the first recorded, its alert included, and the
timeline has one entry."""

from __future__ import annotations

import pytest

from tests.e2e.browser_support import LiveServer
from tests.e2e.test_pages_recording import (
    ANSWERS,
    answer_phq9,
    new_patients_timeline,
    open_form,
    rows_of,
)

pytestmark = pytest.mark.browser

SEND_IN_BACKGROUND = """
const form = document.querySelector(arguments[0]);
return fetch(form.action, {method: "POST", body: new FormData(form), redirect: "manual"})
  .then(function (response) { return response.type; });
"""


class TestAFormSentTwice:
    def test_a_phq9_sent_twice_is_one_entry_and_the_second_shows_the_first_alert(
        self, browser, live: LiveServer
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-TWICE-1", "Dana Doubleclick", "psychiatrist"
        )
        answer_phq9(b, ANSWERS)
        # The first click's request reaches the server, but the browser drops its answer
        # for the second click's: the same form, sent again.
        assert b.driver.execute_script(SEND_IN_BACKGROUND, "#record-phq9 form") == "opaqueredirect"

        b.submit("#phq9-save")

        b.arrive(f"/patients/{pid}")
        assert "nothing new was recorded" in b.text("#recorded-already")
        kinds = [
            a.get_attribute("data-kind") for a in b.find_all("#recorded-alerts .recorded-alert")
        ]
        assert "suicide_risk" in kinds
        assert len(rows_of(b, "AssessmentRecorded")) == 1
        plan = live.get(f"/api/v1/patients/{pid}/plan")
        assert [a["kind"] for a in plan["alerts"]].count("suicide_risk") == 1
        b.shot("already-recorded")

    def test_a_note_sent_again_after_going_back_is_one_entry(self, browser, live: LiveServer):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-TWICE-2", "Bea Backbutton", "therapist"
        )
        open_form(b, "record-note")
        b.find("#note-modality option[value='CBT']").click()
        b.find("#note-text").send_keys("Reviewed the week; plan unchanged.")
        sent_key = b.find("#record-note input[name='form_key']").get_attribute("value")
        b.submit("#note-save")
        assert len(rows_of(b, "NoteAdded")) == 1

        b.driver.back()  # the browser fills the form in again as it was sent

        b.wait_for(lambda d: b.find("#note-text").get_attribute("value") != "")
        assert b.find("#record-note input[name='form_key']").get_attribute("value") == sent_key
        open_form(b, "record-note")
        b.submit("#note-save")

        b.arrive(f"/patients/{pid}")
        assert b.find_all("#recorded-already")
        assert len(rows_of(b, "NoteAdded")) == 1
        notes = live.get(f"/api/v1/patients/{pid}/history?type=NoteAdded", as_="therapist")
        assert len(notes["events"]) == 1
