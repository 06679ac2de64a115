"""FHIR and right-of-access exports over HTTP: authorized, audited, private."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe
from tests.fhir_support import check_bundle, of_type

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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

    def test_an_in_effect_bundle_shows_a_late_entry_where_it_belongs(
        self, api: ApiClient, patient: str
    ) -> None:
        now = datetime.now(UTC)
        started, onset = now - timedelta(days=3), now - timedelta(days=2)
        order = prescribe(api, patient, effective_at=_z(started)).get_json()["order_id"]
        before_report = datetime.now(UTC)
        reported = api.post(
            f"/api/v1/patients/{patient}/side-effects",
            {
                "order_id": order,
                "effect": "LATE-NAUSEA",
                "severity": "mild",
                "effective_at": _z(onset),
            },
        )
        assert reported.status_code == 201, reported.get_json()

        def bundle(**query: str) -> dict[str, Any]:
            response = api.get(f"/api/v1/patients/{patient}/fhir", query_string=query)
            assert response.status_code == 200, response.get_json()
            body: dict[str, Any] = response.get_json()
            check_bundle(body)  # R4B models, every reference resolved inside the bundle
            return body

        def effects(body: dict[str, Any]) -> set[str]:
            return {a["event"]["text"] for a in of_type(body, "AdverseEvent")}

        in_effect = bundle(effective_at=_z(now - timedelta(days=1)))
        assert effects(in_effect) == {"LATE-NAUSEA"}  # told today, in effect two days ago
        (adverse,) = of_type(in_effect, "AdverseEvent")
        (provenance,) = [
            r
            for r in of_type(in_effect, "Provenance")
            if any(t["reference"] == f"urn:uuid:{adverse['id']}" for t in r["target"])
        ]
        occurred, recorded = (
            datetime.fromisoformat(provenance[k]) for k in ("occurredDateTime", "recorded")
        )
        assert occurred < before_report < recorded  # a late entry, in effect where it belongs
        before_onset = bundle(effective_at=_z(now - timedelta(days=2, hours=12)))
        assert effects(before_onset) == set()
        assert of_type(before_onset, "MedicationRequest")
        known_then = bundle(as_of=_z(before_report), effective_at=_z(now - timedelta(days=1)))
        assert effects(known_then) == set()  # not yet told at that moment
        naive = api.get(
            f"/api/v1/patients/{patient}/fhir", query_string={"effective_at": "2020-01-01T00:00:00"}
        )
        assert naive.status_code == 400

    def test_a_transaction_holds_conditional_puts_of_the_current_record_only(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribe(api, patient)
        url = f"/api/v1/patients/{patient}/fhir"
        response = api.get(url, query_string={"type": "transaction"})
        assert response.status_code == 200
        bundle = response.get_json()
        assert bundle["type"] == "transaction"
        requests = {e["resource"]["resourceType"]: e["request"] for e in bundle["entry"]}
        assert requests["MedicationRequest"]["method"] == "PUT"
        assert requests["MedicationRequest"]["url"].startswith(
            "MedicationRequest?identifier=https://carelog.example/fhir/id/resource|"
        )
        past = api.get(url, query_string={"type": "transaction", "as_of": _z(datetime.now(UTC))})
        assert past.status_code == 422
        assert "type" in json.dumps(past.get_json())
        assert api.get(url, query_string={"type": "batch"}).status_code == 400

    def test_a_prescribed_rxnorm_code_is_exported_beside_the_ingredient(
        self, api: ApiClient, patient: str
    ) -> None:
        # a product code as a prescriber gives it, beside the ingredient CareLog resolves
        assert prescribe(api, patient, rxnorm="312940").status_code == 201
        assert prescribe(api, patient, drug="escitalopram", rxnorm="12a").status_code == 400
        bundle = api.get(f"/api/v1/patients/{patient}/fhir").get_json()
        (request,) = of_type(bundle, "MedicationRequest")
        codes = [c["code"] for c in request["medicationCodeableConcept"]["coding"]]
        assert codes == ["312940", "36437"]
        assert request["medicationCodeableConcept"]["text"] == "sertraline"

    def test_a_code_that_names_another_drug_is_refused_and_nothing_is_written(
        self, api: ApiClient, patient: str
    ) -> None:
        before = api.get(f"/api/v1/patients/{patient}/fhir").get_json()
        refused = prescribe(api, patient, rxnorm="321988")  # escitalopram's, on sertraline
        assert refused.status_code == 422
        body = json.dumps(refused.get_json())
        assert "rxnorm" in body
        assert "escitalopram" in body
        combined = prescribe(api, patient, drug="Symbyax", rxnorm="61381")  # olanzapine only
        assert combined.status_code == 422
        assert "olanzapine" in json.dumps(combined.get_json())
        after = api.get(f"/api/v1/patients/{patient}/fhir").get_json()
        assert of_type(after, "MedicationRequest") == of_type(before, "MedicationRequest")
        assert prescribe(api, patient, rxnorm="36437").status_code == 201  # its own code

    def test_no_known_allergies_is_told_apart_from_allergies_not_recorded(
        self, api: ApiClient, patient: str
    ) -> None:
        asked = api.post(
            "/api/v1/patients",
            {"external_id": "MRN-NKA", "name": "Nka Patient", "birth_date": "1980-02-03"}
            | {"allergies": []},
        ).get_json()["patient_id"]

        def allergies(pid: str) -> list[dict[str, Any]]:
            response = api.get(f"/api/v1/patients/{pid}/fhir")
            bundle = response.get_json()
            check_bundle(bundle)
            return of_type(bundle, "AllergyIntolerance")

        (none_known,) = allergies(asked)
        assert none_known["code"]["coding"][0] == {
            "system": "http://snomed.info/sct",
            "code": "716186003",
            "display": "No known allergy",
        }
        assert allergies(patient) == []  # never asked: nothing claimed either way

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
