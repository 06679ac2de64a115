"""Recording from the timeline over plain HTTP: a form post needs the session's CSRF token,
goes through the API's role check (a refused one is recorded as a denied write), and a
form without JavaScript is scored by the server and shown again with its messages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient
from tests.api.test_pages_http import SITE, csrf_of, sign_in

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

SUICIDE_ITEMS = {f"item_{n}": "1" for n in range(1, 10)} | {"item_9": "2"}  # PHQ-9 10


def post_form(api: ApiClient, path: str, form: dict[str, str], token: str | None) -> Any:
    data = dict(form)
    if token is not None:
        data["csrf_token"] = token
    return api.client.post(path, data=data, base_url=SITE)


def timeline_token(api: ApiClient, pid: str, as_: str) -> str:
    """Signed in as ``as_``, the CSRF token of the patient's timeline."""
    sign_in(api, as_)
    return csrf_of(api.client, f"/patients/{pid}")


def post_psychotherapy_note(api: ApiClient, pid: str) -> Any:
    """A psychotherapy note posted from the timeline by whoever is signed in."""
    note = {"kind": "psychotherapy", "modality": "CBT", "text": "Not mine to write."}
    return post_form(api, f"/patients/{pid}/notes", note, csrf_of(api.client, f"/patients/{pid}"))


def denied(api: ApiClient) -> list[tuple[str, str]]:
    """Who was refused what, from the access log."""
    rows = api.carelog.access_log.read_after(0, 1000)
    return [(row["actor_id"], row["what"]) for row in rows if not row["allowed"]]


def assessments(api: ApiClient, pid: str) -> list[dict[str, Any]]:
    history = api.get(f"/api/v1/patients/{pid}/history?type=AssessmentRecorded").get_json()
    return list(history["events"])


class TestRecordingFormsNeedTheSessionsCsrfToken:
    def test_a_form_without_a_token_is_refused_and_records_nothing(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api)
        response = post_form(
            api, f"/patients/{patient}/assessments", {"instrument": "PHQ-9", **SUICIDE_ITEMS}, None
        )
        assert response.status_code == 400
        assert "did not come from CareLog" in response.get_data(as_text=True)
        assert assessments(api, patient) == []

    def test_a_form_with_another_token_is_refused_and_records_nothing(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api)
        response = post_form(
            api,
            f"/patients/{patient}/notes",
            {"kind": "progress", "modality": "CBT", "text": "Forged."},
            "not-the-sessions-token",
        )
        assert response.status_code == 400
        notes = api.get(f"/api/v1/patients/{patient}/history?type=NoteAdded").get_json()
        assert notes["events"] == []

    def test_the_same_form_with_the_sessions_token_is_recorded_and_redirects_to_the_timeline(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api)
        token = csrf_of(api.client, f"/patients/{patient}")
        response = post_form(
            api, f"/patients/{patient}/assessments", {"instrument": "PHQ-9", **SUICIDE_ITEMS}, token
        )
        assert response.status_code == 303
        assert response.headers["Location"] == f"/patients/{patient}#recorded"
        [event] = assessments(api, patient)
        assert event["data"]["total"] == 10
        assert event["actor"]["id"] == api.team.psychiatrist.id
        page = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        assert 'id="recorded-alerts"' in page
        assert "suicide" in page.lower()
        # The outcome is shown once (post/redirect/get): a reload does not repeat it.
        again = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        assert 'id="recorded"' not in again


class TestRecordingFollowsTheApisRules:
    def test_a_pharmacist_is_offered_no_note_and_a_posted_psychotherapy_note_is_refused(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api, "pharmacist")
        page = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        assert 'id="record-side_effect"' in page  # a pharmacist records side effects
        assert 'id="record-note"' not in page
        assert 'value="psychotherapy"' not in page
        response = post_psychotherapy_note(api, patient)
        assert response.status_code == 403
        notes = api.get(f"/api/v1/patients/{patient}/history?type=NoteAdded").get_json()
        assert notes["events"] == []
        assert denied(api) == [(api.team.pharmacist.id, "write:psychotherapy_note")]

    def test_a_psychiatrist_is_offered_a_progress_note_only(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api, "psychiatrist")
        page = api.client.get(f"/patients/{patient}", base_url=SITE).get_data(as_text=True)
        assert 'value="progress"' in page
        assert 'value="psychotherapy"' not in page
        response = post_psychotherapy_note(api, patient)
        assert response.status_code == 403  # the domain's rule: a therapist's note only

    def test_an_unanswered_item_comes_back_beside_its_field_with_the_answers_kept(
        self, api: ApiClient, patient: str
    ) -> None:
        token = timeline_token(api, patient, "therapist")
        answers = {k: v for k, v in SUICIDE_ITEMS.items() if k != "item_4"}
        response = post_form(
            api, f"/patients/{patient}/assessments", {"instrument": "PHQ-9", **answers}, token
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        fieldset = re.search(r'<fieldset class="item" id="phq9-item_4"[^>]*>', page)
        assert fieldset
        assert 'aria-describedby="phq9-item_4-error"' in fieldset.group(0)
        assert re.search(r'id="phq9-item_4-error">Choose an answer', page)
        assert re.search(r'name="item_9" value="2"[^>]* checked', page)
        assert assessments(api, patient) == []

    def test_a_follow_up_due_in_the_past_is_refused_by_the_domain_beside_its_field(
        self, api: ApiClient, patient: str
    ) -> None:
        token = timeline_token(api, patient, "pharmacist")
        response = post_form(
            api,
            f"/patients/{patient}/follow-ups",
            {"due_at": "2020-01-02T09:00", "purpose": "Check sodium"},
            token,
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert re.search(r'id="follow_up-due_at-error">A follow-up must be due in the future', page)
        assert 'value="Check sodium"' in page

    def test_completing_a_follow_up_twice_says_so_instead_of_recording_it_again(
        self, api: ApiClient, patient: str
    ) -> None:
        scheduled = api.post(
            f"/api/v1/patients/{patient}/follow-ups",
            {"due_at": "2099-03-04T09:00:00+00:00", "purpose": "Review sleep"},
        ).get_json()
        path = f"/patients/{patient}/follow-ups/{scheduled['follow_up_id']}/completion"
        token = timeline_token(api, patient, "therapist")
        first = post_form(api, path, {"outcome": "Sleeping better."}, token)
        assert first.status_code == 303
        again = post_form(api, path, {"outcome": "Sleeping better."}, token)
        assert again.status_code == 422
        assert "completed already" in again.get_data(as_text=True)
        completed = api.get(f"/api/v1/patients/{patient}/history?type=FollowUpCompleted")
        assert len(completed.get_json()["events"]) == 1

    def test_a_clinician_off_the_care_team_is_refused_and_the_attempt_recorded(
        self, api: ApiClient, patient: str
    ) -> None:
        sign_in(api, "outsider")
        token = csrf_of(api.client, "/account")
        response = post_form(
            api,
            f"/patients/{patient}/side-effects",
            {"effect": "nausea", "severity": "mild"},
            token,
        )
        assert response.status_code == 403
        effects = api.get(f"/api/v1/patients/{patient}/history?type=SideEffectReported")
        assert effects.get_json()["events"] == []
        assert denied(api) == [(api.team.outsider.id, "write:side_effect")]


class TestWhenItHappened:
    def test_a_time_typed_without_a_zone_is_read_as_utc_like_every_time_on_the_pages(
        self, api: ApiClient, patient: str
    ) -> None:
        token = timeline_token(api, patient, "therapist")
        happened = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)
        form = {
            "instrument": "GAD-7",
            **{f"item_{n}": "1" for n in range(1, 8)},
            "effective_at": happened.strftime("%Y-%m-%dT%H:%M"),
        }
        assert post_form(api, f"/patients/{patient}/assessments", form, token).status_code == 303
        [event] = assessments(api, patient)
        assert datetime.fromisoformat(event["effective_at"]) == happened
        assert event["data"]["total"] == 7
