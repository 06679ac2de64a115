"""A recording form sent twice records once: each rendered form carries a one-time key,
kept per staff member in the API's Idempotency-Key store. The second post shows the first
outcome (its alerts too) and records nothing; a key issued to another sign-in is refused."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import ApiClient
from tests.api.test_pages_http import SITE, csrf_of, sign_in
from tests.api.test_pages_recording_http import SUICIDE_ITEMS

NOTE = {"kind": "progress", "modality": "CBT", "text": "Sleeping better; plan unchanged."}


def form_of(api: ApiClient, pid: str, action: str) -> dict[str, str]:
    """The hidden fields of one rendered form of the timeline (CSRF token and form key)."""
    page = api.client.get(f"/patients/{pid}", base_url=SITE).get_data(as_text=True)
    found = re.search(
        r'<form method="post" action="' + re.escape(action) + r'"(.*?)</form>', page, re.S
    )
    assert found, page[:500]
    hidden = dict(
        re.findall(
            r'type="(?:hidden"|text" hidden) name="(csrf_token|form_key)" value="([^"]+)"',
            found.group(1),
        )
    )
    assert set(hidden) == {"csrf_token", "form_key"}, hidden
    return hidden


def notes_form(api: ApiClient, pid: str) -> tuple[str, dict[str, str]]:
    """Signed in, the timeline's note form: its action and its hidden fields."""
    sign_in(api)
    action = f"/patients/{pid}/notes"
    return action, form_of(api, pid, action)


def post(api: ApiClient, path: str, form: dict[str, str]) -> Any:
    return api.client.post(path, data=form, base_url=SITE)


def events(api: ApiClient, pid: str, kind: str) -> list[dict[str, Any]]:
    return list(api.get(f"/api/v1/patients/{pid}/history?type={kind}").get_json()["events"])


class TestAFormSentTwiceRecordsOnce:
    def test_the_same_assessment_form_twice_records_one_and_shows_the_first_alerts_again(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api)
        action = f"/patients/{patient}/assessments"
        form = {**form_of(api, patient, action), "instrument": "PHQ-9", **SUICIDE_ITEMS}
        first = post(api, action, form)
        assert first.status_code == 303
        page = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        first_alerts = re.findall(r'class="recorded-alert" data-kind="([^"]+)"', page)
        assert "suicide_risk" in first_alerts
        assert 'id="recorded-already"' not in page

        again = post(api, action, form)  # a double click, or back and send again

        assert again.status_code == 303
        assert again.headers["Location"] == first.headers["Location"]
        assert len(events(api, patient, "AssessmentRecorded")) == 1
        shown = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        assert 'id="recorded-already"' in shown
        assert re.findall(r'class="recorded-alert" data-kind="([^"]+)"', shown) == first_alerts
        plan = api.get(f"/api/v1/patients/{patient}/plan").get_json()
        assert [a["kind"] for a in plan["alerts"]].count("suicide_risk") == 1

    def test_two_forms_rendered_apart_record_two_notes(self, api: ApiClient, patient: str) -> None:
        sign_in(api)
        action = f"/patients/{patient}/notes"
        post(api, action, {**form_of(api, patient, action), **NOTE})
        post(api, action, {**form_of(api, patient, action), **NOTE})
        assert len(events(api, patient, "NoteAdded")) == 2

    def test_a_refused_form_keeps_no_claim_so_corrected_it_records(
        self, api: ApiClient, patient: str
    ) -> None:
        action, hidden = notes_form(api, patient)
        refused = post(api, action, {**hidden, **NOTE, "modality": ""})
        assert refused.status_code == 422
        recorded = post(api, action, {**hidden, **NOTE})
        assert recorded.status_code == 303
        assert len(events(api, patient, "NoteAdded")) == 1

    def test_the_same_form_sent_again_with_other_entries_records_nothing_and_says_so(
        self, api: ApiClient, patient: str
    ) -> None:
        action, hidden = notes_form(api, patient)
        post(api, action, {**hidden, **NOTE})
        edited = post(api, action, {**hidden, **NOTE, "text": "Edited after going back."})
        assert edited.status_code == 422
        page = edited.get_data(as_text=True)
        assert "already saved, with other entries" in page
        assert "Edited after going back." in page  # what was entered is kept
        [note] = events(api, patient, "NoteAdded")
        assert note["data"]["text"] == NOTE["text"]
        # The form shown again carries a fresh key: saving it now records it.
        fresh = re.findall(r'name="form_key" value="([^"]+)"', page)
        assert hidden["form_key"] not in fresh

    def test_a_key_from_another_sign_in_is_refused_and_records_nothing(
        self, api: ApiClient, patient: str, app: Any
    ) -> None:
        action, mine = notes_form(api, patient)
        other = ApiClient(app.test_client(), api.team, api.carelog)
        sign_in(other)  # the same clinician, another browser
        theirs = form_of(other, patient, action)
        assert post(other, action, {**theirs, **NOTE}).status_code == 303

        # Their form's key with this session's CSRF token: not this session's key.
        response = post(api, action, {**mine, "form_key": theirs["form_key"], **NOTE})

        assert response.status_code == 422
        assert "opened in another sign-in" in response.get_data(as_text=True)
        assert len(events(api, patient, "NoteAdded")) == 1

    def test_a_form_without_a_key_is_recorded_as_before(self, api: ApiClient, patient: str) -> None:
        sign_in(api)
        token = csrf_of(api.client, f"/patients/{patient}")
        response = post(api, f"/patients/{patient}/notes", {"csrf_token": token, **NOTE})
        assert response.status_code == 303
        assert len(events(api, patient, "NoteAdded")) == 1
