"""Erasure through the HTTP API: once a patient's data key is destroyed, every read of the
patient answers 410 Gone with the tombstone, other patients are untouched, the audit chain
still verifies, and neither the views (live or rebuilt) nor the store's files hold the
patient's clinical text."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.config import Config
from services.keys.erasure import erase
from tests.api.conftest import ApiClient, prescribe, register_patient
from tests.keys_support import disk_bytes, views_dump, with_kek

ERASED_MRN = "MRN-ERASE-1"
DRUG = "sertraline"
REASON = "retention period over (policy R-7)"


@pytest.fixture
def config(config: Config, tmp_path: Path) -> Config:
    return with_kek(config, tmp_path)


def two_patients(api: ApiClient) -> tuple[str, str]:
    gone = register_patient(api, ERASED_MRN)
    prescribe(api, gone, drug=DRUG)
    for _ in range(3):
        r = api.post(
            f"/api/v1/patients/{gone}/notes",
            {"kind": "progress", "modality": "supportive", "text": "Ophelia-sister quarrel"},
        )
        assert r.status_code == 201, r.get_json()
    kept = register_patient(api, "MRN-KEEP-1")
    prescribe(api, kept, drug="fluoxetine")
    api.catch_up()
    assert api.get(f"/api/v1/patients/{gone}/plan").status_code == 200
    return gone, kept


class TestAnErasedPatient:
    @pytest.mark.parametrize("path", ["plan", "history", "fhir", "export"])
    def test_every_read_answers_410_with_the_date_and_reason(
        self, api: ApiClient, path: str
    ) -> None:
        gone, _ = two_patients(api)
        erase(api.carelog, gone, REASON)
        response = api.get(f"/api/v1/patients/{gone}/{path}")
        assert response.status_code == 410, response.get_json()
        body = response.get_json()
        assert response.mimetype == "application/problem+json"
        assert body["detail"].startswith("Record erased on 20")
        assert body["detail"].endswith(REASON)
        assert body["patient_id"] == gone

    def test_other_patients_read_as_before(self, api: ApiClient) -> None:
        gone, kept = two_patients(api)
        erase(api.carelog, gone, REASON)
        plan = api.get(f"/api/v1/patients/{kept}/plan")
        assert plan.status_code == 200
        assert [m["drug"] for m in plan.get_json()["medications"]] == ["fluoxetine"]
        assert api.get(f"/api/v1/patients/{kept}/history").status_code == 200

    def test_writes_to_the_erased_patient_are_refused_with_410(self, api: ApiClient) -> None:
        gone, _ = two_patients(api)
        erase(api.carelog, gone, REASON)
        r = api.post(
            f"/api/v1/patients/{gone}/notes",
            {"kind": "progress", "modality": "supportive", "text": "after erasure"},
        )
        assert r.status_code == 410

    def test_the_audit_chain_still_verifies(self, api: ApiClient) -> None:
        gone, _ = two_patients(api)
        assert api.carelog.integrity.verify().ok
        erase(api.carelog, gone, REASON)
        assert api.carelog.integrity.verify().ok

    def test_the_erasure_is_in_the_access_log_with_actor_and_reason(self, api: ApiClient) -> None:
        gone, _ = two_patients(api)
        erase(api.carelog, gone, REASON)
        entries = [
            e for e in api.carelog.access_log.for_patient(gone) if e["what"] == "patient.erase"
        ]
        assert len(entries) == 1
        assert entries[0]["reason"] == REASON
        assert str(entries[0]["actor_id"]).startswith("cli:")

    def test_views_live_and_rebuilt_hold_nothing_of_the_patient_in_clear(
        self, api: ApiClient, config: Config
    ) -> None:
        gone, _ = two_patients(api)
        before = views_dump(api.carelog)
        assert ERASED_MRN.encode() in before
        assert DRUG.encode() in before
        erase(api.carelog, gone, REASON)
        after = views_dump(api.carelog)
        for secret in (ERASED_MRN, "Ophelia", DRUG):
            assert secret.encode() not in after, secret
        for name in ("current_plan", "audit_trail", "team_dashboard"):
            api.carelog.views.rebuild(name, progress=False)
        rebuilt = views_dump(api.carelog)
        for secret in (ERASED_MRN, "Ophelia", DRUG):
            assert secret.encode() not in rebuilt, secret
        assert b"MRN-KEEP-1" in rebuilt

    def test_the_sqlite_files_hold_no_clear_text_of_the_patient(
        self, api: ApiClient, config: Config
    ) -> None:
        if config.is_postgres:
            pytest.skip("the files on disk are SQLite's")
        gone, _ = two_patients(api)
        assert ERASED_MRN.encode() in disk_bytes(config)  # the views hold it before
        erase(api.carelog, gone, REASON)
        found = disk_bytes(config)
        for secret in (ERASED_MRN, DRUG, "Ophelia"):
            assert secret.encode() not in found, secret


class TestErasureRefusals:
    def test_an_unknown_patient_is_a_clear_404(self, api: ApiClient) -> None:
        from domain.errors import NotFoundError

        with pytest.raises(NotFoundError, match="There is no patient"):
            erase(api.carelog, "5f0e2d61-4f51-4a3c-9d52-3c9a1a2b7e10", REASON)

    def test_a_blank_reason_is_refused(self, api: ApiClient) -> None:
        from domain.errors import InvalidInputError

        gone, _ = two_patients(api)
        with pytest.raises(InvalidInputError, match="reason"):
            erase(api.carelog, gone, "   ")
        assert api.get(f"/api/v1/patients/{gone}/plan").status_code == 200

    def test_a_staff_member_who_is_not_an_admin_may_not_erase(self, api: ApiClient) -> None:
        from domain.errors import NotPermittedError

        gone, _ = two_patients(api)
        with pytest.raises(NotPermittedError, match="administrator"):
            erase(api.carelog, gone, REASON, actor=api.team.psychiatrist.id)
        erase(api.carelog, gone, REASON, actor=api.team.admin.id)
        assert api.get(f"/api/v1/patients/{gone}/plan").status_code == 410

    def test_without_envelope_encryption_erasure_is_refused(self, config: Config) -> None:
        from services.keys.errors import KeyConfigError

        plain = CareLog(config.with_(kek_file=None))
        try:
            with pytest.raises(KeyConfigError, match="needs envelope encryption"):
                erase(plain, "5f0e2d61-4f51-4a3c-9d52-3c9a1a2b7e10", REASON)
        finally:
            plain.close()


class TestErasedPatientElsewhere:
    def test_the_feed_sends_nothing_more_of_the_erased_patient(self, api: ApiClient) -> None:
        gone, kept = two_patients(api)

        def subjects() -> set[str]:
            page = api.get("/api/v1/feed?after=0&limit=500", as_="pharmacist").get_json()
            return {item["subject"] for item in page["items"]}

        assert gone in subjects()  # the check can fail
        erase(api.carelog, gone, REASON)
        after = subjects()
        assert gone not in after
        assert kept in after

    def test_the_patient_page_shows_the_erased_tombstone(self, api: ApiClient) -> None:
        from web.pages.session import SESSION_LIFETIME

        gone, _ = two_patients(api)
        erase(api.carelog, gone, REASON)
        started = api.carelog.staff.start_session(
            api.team.tokens["psychiatrist"], "127.0.0.1", SESSION_LIFETIME
        )
        assert started is not None
        with api.client.session_transaction() as session:
            session["staff_session"] = started[1]
        page = api.client.get(f"/patients/{gone}")
        assert page.status_code == 410
        text = page.get_data(as_text=True)
        assert "Record erased on" in text
        assert REASON in text


class TestStoredResponses:
    def test_idempotent_responses_about_the_patient_are_deleted(self, api: ApiClient) -> None:
        gone, kept = two_patients(api)
        for pid, key in ((gone, "key-gone"), (kept, "key-kept")):
            r = api.post(
                f"/api/v1/patients/{pid}/medications",
                {
                    "drug": "lithium",
                    "dose": {"amount": 400, "unit": "mg"},
                    "frequency": "once daily",
                    "route": "oral",
                    "indication": "bipolar disorder",
                },
                headers={"Idempotency-Key": key},
            )
            assert r.status_code == 201, r.get_json()

        def keys() -> set[str]:
            return {r["key"] for r in api.carelog.db.query("SELECT key FROM idempotency_keys")}

        assert {"key-gone", "key-kept"} <= keys()
        erase(api.carelog, gone, REASON)
        assert "key-gone" not in keys()
        assert "key-kept" in keys()
