"""Every write endpoint: success, bad input by field, 401, 404, 412 and idempotent replay."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe, problem_naming

UNKNOWN = "7d9f0c7e-0000-4000-8000-000000000000"


def path(pid: str, rest: str) -> str:
    return f"/api/v1/patients/{pid}/{rest}"


def prescription(without: str | None = None, **fields: Any) -> dict[str, Any]:
    """A prescription's body (sertraline 5 mg once daily by mouth), with ``fields`` changed
    or added and the field ``without`` names left out."""
    body: dict[str, Any] = {
        "drug": "sertraline",
        "dose": {"amount": 5, "unit": "mg"},
        "frequency": "once daily",
        "route": "oral",
        "indication": "x",
        **fields,
    }
    body.pop(without or "", None)
    return body


class TestPrescribing:
    def test_prescription_returns_the_write_fields_and_an_etag(
        self, api: ApiClient, patient: str
    ) -> None:
        response = prescribe(api, patient)
        body = response.get_json()
        assert response.status_code == 201
        assert set(body) >= {"event_id", "patient_id", "version", "position", "order_id", "alerts"}
        assert response.headers["ETag"] == f'"{body["version"]}"'
        plan = api.get(path(patient, "plan")).get_json()
        assert [m["drug"] for m in plan["medications"]] == ["sertraline"]
        assert plan["version"] == body["version"]

    @pytest.mark.parametrize(
        ("body", "status", "field"),
        [
            (prescription(without="drug", dose={"amount": 50, "unit": "mg"}), 400, "drug"),
            (prescription(dose={"amount": "lots", "unit": "mg"}), 400, "dose.amount"),
            (prescription(dose={"amount": -5, "unit": "mg"}), 422, "dose.amount"),
            (prescription(dose={"amount": 5, "unit": "teaspoons"}), 422, "dose.unit"),
            (prescription(effective_at="2999-01-01T00:00:00Z"), 422, "effective_at"),
            (prescription(effective_at="2020-01-01T00:00:00"), 400, "effective_at"),
            (prescription(colour="blue"), 400, "colour"),
        ],
    )
    @pytest.mark.store_independent
    def test_bad_prescription_names_the_field_and_writes_nothing(
        self, api: ApiClient, patient: str, body: dict[str, Any], status: int, field: str
    ) -> None:
        before = api.carelog.app.get_record(patient).version
        response = api.post(path(patient, "medications"), body)
        problem = response.get_json()
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        assert field in problem["errors"], problem
        assert problem["status"] == status
        assert problem["title"]
        assert problem["detail"]
        assert api.carelog.app.get_record(patient).version == before

    @pytest.mark.store_independent
    def test_dose_change_of_a_discontinued_order_is_422(self, api: ApiClient, patient: str) -> None:
        order = prescribe(api, patient).get_json()["order_id"]
        stop = api.post(
            path(patient, f"medications/{order}/discontinuation"),
            {"reason": "remission", "taper": "25 mg for a week, then stop"},
        )
        assert stop.status_code == 201, stop.get_json()
        response = api.post(
            path(patient, f"medications/{order}/dose-changes"),
            {"dose": {"amount": 100, "unit": "mg"}, "reason": "x"},
        )
        problem_naming(response, 422, "order_id")

    def test_dose_change_of_an_unknown_order_is_404(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            path(patient, "medications/nope/dose-changes"),
            {"dose": {"amount": 100, "unit": "mg"}, "reason": "x"},
        )
        assert response.status_code == 404


class TestConventions:
    @pytest.mark.store_independent
    def test_missing_token_is_401_problem(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "supportive", "text": "x"},
            as_=None,
        )
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"

    @pytest.mark.store_independent
    def test_bad_token_is_401(self, api: ApiClient, patient: str) -> None:
        response = api.client.get(
            path(patient, "plan"), headers={"Authorization": "Bearer nope.nope"}
        )
        assert response.status_code == 401

    def test_unknown_patient_is_404(self, api: ApiClient) -> None:
        response = api.post(
            path(UNKNOWN, "notes"), {"kind": "progress", "modality": "supportive", "text": "x"}
        )
        assert response.status_code == 404
        assert api.get(path(UNKNOWN, "plan")).status_code == 404

    def test_stale_if_match_is_412_and_writes_nothing(self, api: ApiClient, patient: str) -> None:
        version = api.carelog.app.get_record(patient).version
        ok = api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "supportive", "text": "first"},
            headers={"If-Match": f'"{version}"'},
        )
        assert ok.status_code == 201
        stale = api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "supportive", "text": "second"},
            headers={"If-Match": f'"{version}"'},
        )
        assert stale.status_code == 412
        assert api.carelog.app.get_record(patient).version == version + 1

    def test_idempotent_replay_returns_the_first_response_and_writes_once(
        self, api: ApiClient, patient: str
    ) -> None:
        body = {"kind": "progress", "modality": "supportive", "text": "once"}
        first = api.post(path(patient, "notes"), body, headers={"Idempotency-Key": "k-1"})
        again = api.post(path(patient, "notes"), body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert first.get_json() == again.get_json()
        notes = api.carelog.app.get_record(patient).plan.notes
        assert len(notes) == 1

    def test_same_idempotency_key_with_another_body_is_422(
        self, api: ApiClient, patient: str
    ) -> None:
        api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "supportive", "text": "a"},
            headers={"Idempotency-Key": "k-2"},
        )
        other = api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "supportive", "text": "b"},
            headers={"Idempotency-Key": "k-2"},
        )
        assert other.status_code == 422
        assert len(api.carelog.app.get_record(patient).plan.notes) == 1

    @pytest.mark.store_independent
    def test_malformed_json_is_400(self, api: ApiClient, patient: str) -> None:
        response = api.client.post(
            path(patient, "notes"),
            data="{not json",
            headers={**api.headers("psychiatrist"), "Content-Type": "application/json"},
        )
        assert response.status_code == 400


class TestOtherWrites:
    def test_assessment_returns_total_and_severity(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            path(patient, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [2] * 9},
            as_="therapist",
        )
        body = response.get_json()
        assert response.status_code == 201, body
        assert (body["total"], body["severity"]) == (18, "moderately severe")

    @pytest.mark.store_independent
    def test_bad_item_count_is_422_naming_item_scores(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            path(patient, "assessments"),
            {"instrument": "PHQ-9", "item_scores": [2] * 8},
            as_="therapist",
        )
        problem_naming(response, 422, "item_scores")

    def test_follow_up_scheduled_and_completed(self, api: ApiClient, patient: str) -> None:
        created = api.post(
            path(patient, "follow-ups"), {"due_at": "2099-01-01T10:00:00Z", "purpose": "review"}
        )
        assert created.status_code == 201
        fid = created.get_json()["follow_up_id"]
        done = api.post(path(patient, f"follow-ups/{fid}/completion"), {"outcome": "well"})
        assert done.status_code == 201
        again = api.post(path(patient, f"follow-ups/{fid}/completion"), {"outcome": "well"})
        assert again.status_code == 422

    def test_side_effect_consent_and_care_team_removal(self, api: ApiClient, patient: str) -> None:
        assert (
            api.post(
                path(patient, "side-effects"), {"effect": "nausea", "severity": "mild"}
            ).status_code
            == 201
        )
        assert (
            api.post(
                path(patient, "side-effects"), {"effect": "nausea", "severity": "awful"}
            ).status_code
            == 400
        )
        assert (
            api.post(
                path(patient, "consents"), {"scope": "medication", "decision": "granted"}
            ).status_code
            == 201
        )
        therapist = api.team.therapist.id
        removed = api.post(path(patient, f"care-team/{therapist}/removal"), {"reason": "moved"})
        assert removed.status_code == 201
        note = api.post(
            path(patient, "notes"),
            {"kind": "progress", "modality": "CBT", "text": "x"},
            as_="therapist",
        )
        assert note.status_code == 403

    def test_correction_shows_both_values_in_history(self, api: ApiClient, patient: str) -> None:
        order = prescribe(api, patient).get_json()
        response = api.post(
            path(patient, "corrections"),
            {
                "event_id": order["event_id"],
                "fields": {"dose": {"amount": 25, "unit": "mg"}},
                "reason": "mistyped",
            },
        )
        assert response.status_code == 201, response.get_json()
        plan = api.get(path(patient, "plan")).get_json()
        assert plan["medications"][0]["dose"] == {"amount": 25.0, "unit": "mg"}
        assert plan["medications"][0]["corrected"] is True
        events = api.get(path(patient, "history")).get_json()["events"]
        types = [e["type"] for e in events]
        assert "MedicationPrescribed" in types
        assert "EntryCorrected" in types
        prescribed = next(e for e in events if e["type"] == "MedicationPrescribed")
        assert prescribed["data"]["dose"]["amount"] == 50

    def test_emergency_access_lets_an_outsider_read_and_is_flagged(
        self, api: ApiClient, patient: str
    ) -> None:
        assert api.get(path(patient, "plan"), as_="outsider").status_code == 403
        granted = api.post(
            path(patient, "emergency-access"), {"reason": "crisis at night"}, as_="outsider"
        )
        assert granted.status_code == 201
        assert api.get(path(patient, "plan"), as_="outsider").status_code == 200
