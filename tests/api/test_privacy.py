"""Psychotherapy note text reaches its author and no one else, anywhere."""

from __future__ import annotations

import json
import uuid

from tests.api.conftest import ApiClient

READERS = ("psychiatrist", "pharmacist", "prescribing_pharmacist", "auditor", "admin", "outsider")


def every_read(api: ApiClient, pid: str, as_: str) -> list[str]:
    bodies = []
    for url in (
        f"/api/v1/patients/{pid}/plan",
        f"/api/v1/patients/{pid}/history",
        f"/api/v1/patients/{pid}/audit",
        "/api/v1/audit",
        "/api/v1/dashboard",
        "/api/v1/patients",
        "/api/v1/feed",
    ):
        bodies.append(api.get(url, as_=as_).get_data(as_text=True))
    return bodies


class TestPsychotherapyNotes:
    def test_marker_never_appears_to_anyone_but_the_author(
        self, api: ApiClient, patient: str
    ) -> None:
        marker = f"SECRET-{uuid.uuid4().hex}"
        written = api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "psychotherapy", "modality": "CBT", "text": f"Session content {marker}"},
            as_="therapist",
        )
        assert written.status_code == 201
        fix = api.post(
            f"/api/v1/patients/{patient}/corrections",
            {
                "event_id": written.get_json()["event_id"],
                "fields": {"text": f"Corrected {marker}"},
                "reason": f"fix {marker}",
            },
            as_="therapist",
        )
        assert fix.status_code == 201, fix.get_json()
        api.catch_up()
        for reader in READERS:
            for body in every_read(api, patient, reader):
                assert marker not in body, reader
        history = api.get(f"/api/v1/patients/{patient}/history", as_="therapist").get_json()
        assert marker in json.dumps(history)

    def test_a_pharmacist_refused_a_psychotherapy_note_is_told_it_is_a_psychotherapy_note(
        self, api: ApiClient, patient: str
    ) -> None:
        refused = api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "psychotherapy", "modality": "CBT", "text": "not mine to write"},
            as_="pharmacist",
        )
        assert refused.status_code == 403
        assert "may not write psychotherapy notes" in refused.get_json()["detail"]

    def test_others_see_a_marker_without_text(self, api: ApiClient, patient: str) -> None:
        api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "psychotherapy", "modality": "DBT", "text": "private"},
            as_="therapist",
        )
        events = api.get(
            f"/api/v1/patients/{patient}/history", query_string={"type": "NoteAdded"}
        ).get_json()["events"]
        assert events[0]["data"] == {
            "note_id": events[0]["data"]["note_id"],
            "kind": "psychotherapy",
            "restricted": True,
        }

    def test_progress_notes_are_read_by_the_team(self, api: ApiClient, patient: str) -> None:
        api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "progress", "modality": "supportive", "text": "team can read"},
        )
        events = api.get(
            f"/api/v1/patients/{patient}/history",
            as_="pharmacist",
            query_string={"type": "NoteAdded"},
        ).get_json()["events"]
        assert events[0]["data"]["text"] == "team can read"
