"""Psychotherapy notes: the text is its author's alone, on every page of every other user
(the dashboard kept live included)."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.e2e.browser_support import Browser, LiveServer

pytestmark = pytest.mark.browser

OTHERS = ("psychiatrist", "pharmacist", "prescribing_pharmacist", "auditor", "admin", "outsider")


def pages(pid: str, as_of: str) -> list[str]:
    return [
        "/",
        "/dashboard",
        "/dashboard/rows",
        "/alerts",
        f"/patients/{pid}",
        f"/patients/{pid}?kind=NoteAdded",
        f"/patients/{pid}?kind=EntryCorrected",
        f"/patients/{pid}?as_of={quote(as_of)}",
        f"/patients/{pid}?clock=effective",
        "/audit-review",
        f"/audit-review?patient_id={pid}&action=NoteAdded",
        "/account",
    ]


def psychotherapy_note(
    live: LiveServer, pid: str, modality: str, text: str, corrected: str, reason: str
) -> None:
    """The therapist writes a psychotherapy note and corrects its text."""
    note = live.post(
        f"/api/v1/patients/{pid}/notes",
        {"kind": "psychotherapy", "modality": modality, "text": text},
        as_="therapist",
    )
    live.post(
        f"/api/v1/patients/{pid}/corrections",
        {"event_id": note["event_id"], "fields": {"text": corrected}, "reason": reason},
        as_="therapist",
    )


def shown_on_no_page(b: Browser, pid: str, as_of: str, *texts: str) -> None:
    """None of ``texts`` is in the source of any page this sign-in opens."""
    for path in pages(pid, as_of):
        b.expect_error_status(path.split("?")[0], 403)
        b.open(path)
        source = b.driver.page_source
        for text in texts:
            assert text not in source, (b.who, path)


class TestPsychotherapyNotes:
    def test_a_therapists_psychotherapy_note_is_invisible_on_every_page_of_every_other_user(
        self, browser, live: LiveServer
    ):
        secret = f"dream about the lighthouse {uuid.uuid4().hex}"
        correction = f"it was a harbour {uuid.uuid4().hex}"
        pid = live.register_patient("MRN-E2E-PN", "Pat Notewell")
        order = live.prescribe(pid, "sertraline", 50)
        live.post(
            f"/api/v1/patients/{pid}/notes",
            {"kind": "progress", "modality": "CBT", "text": "Sleeping better."},
            as_="therapist",
        )
        watcher = browser("psychiatrist")  # a dashboard left open while the note is written
        watcher.wait_for(lambda d: watcher.find("#board").get_attribute("data-live") == "true")
        psychotherapy_note(
            live, pid, "psychodynamic", secret, correction, f"misheard: {correction}"
        )
        live.change_dose(pid, order, 100)
        watcher.wait_for(lambda d: "sertraline 100 mg" in watcher.text(f"#patient-{pid}"))
        assert secret not in watcher.driver.page_source
        assert correction not in watcher.driver.page_source
        as_of = live.get(f"/api/v1/patients/{pid}/history?limit=1000")["events"][-1]["recorded_at"]

        author = browser("therapist").open(f"/patients/{pid}")
        assert secret in author.text("#timeline")  # its author reads it: the check can fail
        assert correction in author.text("#timeline")

        b = browser(None)  # one window, each colleague signing in to it in turn
        for who in OTHERS:
            b.who = who
            b.sign_in(live.team.tokens[who])
            shown_on_no_page(b, pid, as_of, secret, correction)
            if who in ("psychiatrist", "pharmacist", "auditor"):
                b.open(f"/patients/{pid}")
                assert "Psychotherapy note: only its author can read it." in b.text("#timeline")
                assert "Sleeping better." in b.text("#timeline")  # progress notes are shared
                b.shot("timeline-with-restricted-note")
            b.sign_out()


class TestATherapistColleague:
    def test_a_second_therapist_on_the_team_sees_only_a_marker_and_the_author_the_text(
        self, browser, live: LiveServer
    ):
        secret = f"the locked garden {uuid.uuid4().hex}"
        correction = f"a walled orchard {uuid.uuid4().hex}"
        pid = live.register_patient("MRN-E2E-P2", "Quinn Cotherapy")
        live.add_colleague("second_therapist", "therapist", pid)
        psychotherapy_note(live, pid, "DBT", secret, correction, correction)
        as_of = live.get(f"/api/v1/patients/{pid}/history?limit=1000")["events"][-1]["recorded_at"]
        note_row = "#timeline tr.event[data-type='NoteAdded']"

        author = browser("therapist").open(f"/patients/{pid}")
        assert secret in author.text(note_row)
        assert "restricted" not in author.find(note_row).get_attribute("class")
        assert correction in author.text("#timeline")

        colleague = browser("second_therapist").open(f"/patients/{pid}")
        assert colleague.text("h1") == "Quinn Cotherapy"  # on the team: the record opens
        marker = colleague.find(note_row)
        assert "restricted" in marker.get_attribute("class")
        assert "Psychotherapy note: only its author can read it." in marker.text
        assert len(colleague.find_all("#timeline tr.event.restricted")) == 2  # note, correction
        colleague.shot("timeline-marker")
        shown_on_no_page(colleague, pid, as_of, secret, correction)
        history = str(
            live.get(f"/api/v1/patients/{pid}/history?limit=1000", as_="second_therapist")
        )
        assert secret not in history  # nor through the API
        assert correction not in history
