"""FHIR and right-of-access exports over HTTP: authorized, audited, private."""

from __future__ import annotations

import json

from tests.api.conftest import ApiClient, prescribe


class TestFhirEndpoint:
    def test_bundle_as_of_a_time_and_for_the_team_only(self, api: ApiClient, patient: str) -> None:
        prescribe(api, patient)
        response = api.get(f"/api/v1/patients/{patient}/fhir")
        bundle = response.get_json()
        assert response.status_code == 200
        assert response.mimetype == "application/fhir+json"
        assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert {"Patient", "CareTeam", "MedicationRequest", "Provenance"} <= kinds
        early = api.get(
            f"/api/v1/patients/{patient}/fhir", query_string={"as_of": "2000-01-01T00:00:00Z"}
        )
        assert early.status_code == 404
        assert api.get(f"/api/v1/patients/{patient}/fhir", as_="outsider").status_code == 403
        assert api.get(f"/api/v1/patients/{patient}/fhir", as_="admin").status_code == 403

    def test_access_export_has_no_psychotherapy_note_and_lists_disclosures(
        self, api: ApiClient, patient: str
    ) -> None:
        api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "psychotherapy", "modality": "CBT", "text": "PRIVATE-XYZ"},
            as_="therapist",
        )
        api.get(f"/api/v1/patients/{patient}/plan", as_="pharmacist")
        response = api.get(f"/api/v1/patients/{patient}/export")
        assert response.status_code == 200
        body = response.get_json()
        text = json.dumps(body)
        assert "PRIVATE-XYZ" not in text
        assert "psychotherapy" not in text.lower()
        readers = {d["who"]["id"] for d in body["disclosures"]}
        assert api.team.pharmacist.id in readers
