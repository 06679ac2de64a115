"""Recording from the timeline in Chromium: a PHQ-9 scored as it is answered and the
alert it raised shown after saving (and in the API's plan), a refused form shown again
with its message beside the field, and a note, a side effect, a follow-up and its
completion each recorded and on the timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser

DESKTOP = (1366, 900)
ANSWERS = [1, 1, 1, 1, 1, 1, 1, 1, 2]  # PHQ-9 10 (moderate), item 9 scored 2


def new_patients_timeline(
    browser: Callable[..., Browser],
    live: LiveServer,
    mrn: str,
    name: str,
    who: str,
    size: tuple[int, int] = DESKTOP,
) -> tuple[str, Browser]:
    """A patient registered just now, their timeline open in a window signed in as ``who``."""
    pid = live.register_patient(mrn, name)
    return pid, browser(who, size=size).open(f"/patients/{pid}")


def open_form(b: Browser, form_id: str) -> None:
    """Unfold a recording form (each is folded in a <details> until opened)."""
    details = b.find(f"#{form_id}")
    if details.get_attribute("open") is None:
        details.find_element("css selector", "summary").click()
    b.wait_for(lambda d: b.find(f"#{form_id}").get_attribute("open") is not None)


def choose(b: Browser, form_css: str, name: str, value: str) -> None:
    b.find(f"{form_css} input[name='{name}'][value='{value}']").click()


def answer_phq9(b: Browser, answers: list[int]) -> None:
    """Unfold the PHQ-9 form and answer its items from the first (the rest left blank)."""
    open_form(b, "record-phq9")
    for n, answer in enumerate(answers, start=1):
        choose(b, "#record-phq9 form", f"item_{n}", str(answer))


def set_value(b: Browser, css: str, value: str) -> None:
    """Type into a field (a datetime-local too: its value set as the browser would)."""
    b.driver.execute_script("document.querySelector(arguments[0]).value = arguments[1]", css, value)


def rows_of(b: Browser, kind: str) -> list[str]:
    return [r.text for r in b.find_all(f"#timeline tr.event[data-type='{kind}']")]


class TestRecordingAnAssessment:
    def test_a_phq9_with_item_9_answered_shows_the_suicide_risk_alert_here_and_in_the_plan(
        self, browser, live: LiveServer, size
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-REC-1", "Riley Recordwell", "psychiatrist", size=size
        )
        answer_phq9(b, ANSWERS)
        total = b.text("#phq9-total")
        assert total.startswith("Total 10 of 27: moderate"), total
        assert "suicide-risk alert" in total
        b.shot("answered")

        b.submit("#phq9-save")

        b.arrive(f"/patients/{pid}")
        panel = b.text("#recorded")
        assert "PHQ-9" in panel
        assert "10" in panel
        [alert] = [
            a.text for a in b.find_all("#recorded-alerts .recorded-alert[data-kind='suicide_risk']")
        ]
        assert "PHQ-9 item 9" in alert
        plan = live.get(f"/api/v1/patients/{pid}/plan")
        assert [a["kind"] for a in plan["alerts"] if a["kind"] == "suicide_risk"] == [
            "suicide_risk"
        ]
        assert [a["total"] for a in plan["assessments"] if a["instrument"] == "PHQ-9"] == [10]
        assert len(rows_of(b, "AssessmentRecorded")) == 1
        b.shot("recorded")

    def test_a_refused_form_shows_the_message_beside_its_field_and_keeps_what_was_entered(
        self, browser, live: LiveServer
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-REC-2", "Sam Sideeffect", "pharmacist"
        )
        b.expect_error_status(f"/patients/{pid}/side-effects", 422)
        assert b.find_all("#record-note") == []  # no note of either kind for a pharmacist
        open_form(b, "record-side_effect")
        b.find("#side_effect-effect").send_keys("dizziness on standing")
        b.find("#side_effect-onset").send_keys("after the evening dose")

        b.submit("#side_effect-save")  # no severity chosen

        error = b.find("#side_effect-severity-error")
        assert error.text.startswith("Choose how severe it is: mild"), error.text
        assert "Must be one of" not in error.text
        fieldset = b.find("fieldset#side_effect-severity")
        assert fieldset.get_attribute("aria-describedby") == "side_effect-severity-error"
        assert b.find("#side_effect-effect").get_attribute("value") == "dizziness on standing"
        assert b.find("#side_effect-onset").get_attribute("value") == "after the evening dose"
        assert b.find("#record-side_effect").get_attribute("open") is not None
        b.shot("refused")

        choose(b, "#record-side_effect form", "severity", "moderate")
        b.submit("#side_effect-save")
        b.arrive(f"/patients/{pid}")
        assert "dizziness on standing" in rows_of(b, "SideEffectReported")[0]


class TestEveryProblemAtOnce:
    def test_a_phq9_with_a_blank_item_and_a_future_date_shows_both_problems_together(
        self, browser, live: LiveServer
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-REC-4", "Ari Allatonce", "psychiatrist"
        )
        b.expect_error_status(f"/patients/{pid}/assessments", 422)
        answer_phq9(b, ANSWERS[:-1])  # item 9 left blank
        later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        set_value(b, "#phq9-effective_at", later)

        b.submit("#phq9-save")

        assert "Choose an answer" in b.text("#phq9-item_9-error")
        assert "in the future" in b.text("#phq9-effective_at-error")
        assert live.get(f"/api/v1/patients/{pid}/plan")["assessments"] == []

    def test_a_follow_up_with_a_past_date_and_no_purpose_shows_both_problems_together(
        self, browser, live: LiveServer
    ):
        pid, b = new_patients_timeline(browser, live, "MRN-E2E-REC-5", "Bo Bothwrong", "therapist")
        b.expect_error_status(f"/patients/{pid}/follow-ups", 422)
        open_form(b, "record-follow_up")
        past = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        set_value(b, "#follow_up-due_at", past)

        b.submit("#follow_up-save")

        assert "due in the future" in b.text("#follow_up-due_at-error")
        assert "purpose is required" in b.text("#follow_up-purpose-error")
        assert b.find("#follow_up-due_at").get_attribute("value") == past
        assert live.get(f"/api/v1/patients/{pid}/plan", as_="therapist")["follow_ups"] == []


class TestRecordingNotesAndFollowUps:
    def test_a_note_a_side_effect_a_follow_up_and_its_completion_each_land_on_the_timeline(
        self, browser, live: LiveServer
    ):
        pid, b = new_patients_timeline(
            browser, live, "MRN-E2E-REC-3", "Noor Notesworth", "therapist"
        )

        open_form(b, "record-note")
        choose(b, "#record-note form", "kind", "psychotherapy")
        b.find("#note-modality option[value='CBT']").click()
        b.find("#note-text").send_keys("Worked on thought records; homework set.")
        b.submit("#note-save")
        assert "homework set" in rows_of(b, "NoteAdded")[0]

        open_form(b, "record-side_effect")
        b.find("#side_effect-effect").send_keys("insomnia")
        choose(b, "#record-side_effect form", "severity", "mild")
        b.submit("#side_effect-save")
        assert "insomnia" in rows_of(b, "SideEffectReported")[0]
        assert b.find_all("#recorded-no-alerts")

        open_form(b, "record-follow_up")
        due = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
        set_value(b, "#follow_up-due_at", due)
        b.find("#follow_up-purpose").send_keys("Review sleep diary")
        b.submit("#follow_up-save")
        assert "Review sleep diary" in rows_of(b, "FollowUpScheduled")[0]
        [follow_up] = live.get(f"/api/v1/patients/{pid}/plan", as_="therapist")["follow_ups"]

        item = f"#follow-up-{follow_up['follow_up_id']}"
        b.find(f"{item} summary").click()
        b.find(f"{item} textarea").send_keys("Diary reviewed: sleeping 6 hours.")
        b.submit(f"{item} button.complete-follow-up")
        assert "Diary reviewed" in rows_of(b, "FollowUpCompleted")[0]
        assert live.get(f"/api/v1/patients/{pid}/plan", as_="therapist")["follow_ups"] == []
        b.shot("recorded")

        note = live.get(f"/api/v1/patients/{pid}/history?type=NoteAdded", as_="therapist")
        assert note["events"][0]["data"]["kind"] == "psychotherapy"
        assert note["events"][0]["actor"]["id"] == live.team.therapist.id
