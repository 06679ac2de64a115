"""A refused recording form speaks the page's words: its summary names each field by the
label beside it ("When it happened (UTC)", not "Effective at"), and a domain message that
opens with the API's field name (``effective_at is in the future``) is reworded."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import ApiClient
from tests.api.test_pages_http import SITE
from tests.api.test_pages_recording_http import timeline_token

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

ITEMS = {f"item_{n}": "0" for n in range(1, 10)}


def summary_of(page: str, form: str) -> str:
    found = re.search(rf'<div class="error-summary"[^>]*id="{form}-errors">(.*?)</div>', page, re.S)
    assert found, page[:500]
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


class TestRefusedFormWording:
    def test_a_phq9_dated_in_the_future_names_the_when_field_as_the_page_does(
        self, api: ApiClient, patient: str
    ) -> None:
        token = timeline_token(api, patient, "therapist")
        later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
        form = {"instrument": "PHQ-9", **ITEMS, "effective_at": later, "csrf_token": token}
        response = api.client.post(f"/patients/{patient}/assessments", data=form, base_url=SITE)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        summary = summary_of(page, "phq9")
        assert "When it happened (UTC): This time is in the future" in summary, summary
        assert "effective_at" not in summary
        beside = re.search(r'id="phq9-effective_at-error">([^<]*)<', page)
        assert beside is not None
        assert beside.group(1).startswith("This time is in the future"), beside.group(1)
        assert f'value="{later}"' in page  # what was entered is kept

    def test_a_note_without_text_names_the_note_field(self, api: ApiClient, patient: str) -> None:
        token = timeline_token(api, patient, "therapist")
        form = {"kind": "progress", "modality": "CBT", "text": "", "csrf_token": token}
        response = api.client.post(f"/patients/{patient}/notes", data=form, base_url=SITE)
        assert response.status_code == 422
        summary = summary_of(response.get_data(as_text=True), "note")
        assert "Note: The note text is required." in summary, summary
