"""Input no store can keep or no clinician could mean is refused with a field error, never a
500 and never recorded: oversized and deeply nested bodies, NUL and lone surrogates in
bodies, headers and paths, non-finite and implausibly large numbers, clinical times before
1900 or before the patient's birth."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiClient, prescribe


def head(api: ApiClient) -> int:
    return int(api.carelog.app.recorder.max_notification_id() or 0)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    return body


def raw_post(api: ApiClient, path: str, data: bytes, **headers: str) -> Any:
    return api.client.post(
        path,
        data=data,
        headers={**api.headers("psychiatrist"), "Content-Type": "application/json", **headers},
    )


def corrected(api: ApiClient, pid: str, event_id: str, fields: Any, reason: str = "x") -> Any:
    """The answer to a correction of the entry ``event_id``."""
    body = {"event_id": event_id, "fields": fields, "reason": reason}
    return api.post(f"/api/v1/patients/{pid}/corrections", body)


def adherence_reported(
    api: ApiClient, pid: str, taken: int, missed: int, period_start: str, period_end: str
) -> Any:
    """Adherence to a fresh prescription reported over the period given (the response)."""
    order = prescribe(api, pid).get_json()["order_id"]
    return api.post(
        f"/api/v1/patients/{pid}/adherence",
        {
            "order_id": order,
            "doses_taken": taken,
            "doses_missed": missed,
            "period_start": period_start,
            "period_end": period_end,
        },
    )


def note_corrected(api: ApiClient, pid: str, fields: Any, reason: str) -> Any:
    """A progress note written, then the answer to a correction of it."""
    note = api.post(
        f"/api/v1/patients/{pid}/notes", {"kind": "progress", "modality": "CBT", "text": "x"}
    ).get_json()
    return corrected(api, pid, note["event_id"], fields, reason)


class TestRequestSize:
    @pytest.mark.store_independent
    def test_a_body_over_the_limit_is_413_and_writes_nothing(
        self, api: ApiClient, patient: str
    ) -> None:
        before = head(api)
        body = b'{"kind": "progress", "modality": "CBT", "text": "' + b"x" * (1024 * 1024) + b'"}'
        response = raw_post(api, f"/api/v1/patients/{patient}/notes", body)
        assert problem_of(response, 413)["status"] == 413
        assert head(api) == before

    def test_a_body_under_the_limit_is_read(self, api: ApiClient, patient: str) -> None:
        body = b'{"kind": "progress", "modality": "CBT", "text": "' + b"x" * 19000 + b'"}'
        assert raw_post(api, f"/api/v1/patients/{patient}/notes", body).status_code == 201


@pytest.mark.store_independent
class TestNesting:
    def test_deeply_nested_json_is_400_not_500(self, api: ApiClient, patient: str) -> None:
        body = b'{"fields": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        problem = problem_of(raw_post(api, f"/api/v1/patients/{patient}/corrections", body), 400)
        assert "Nested deeper" in str(problem["errors"])

    def test_nesting_just_past_the_limit_is_400(self, api: ApiClient, patient: str) -> None:
        body = b'{"fields": ' + b"[" * 40 + b"]" * 40 + b"}"
        problem = problem_of(raw_post(api, f"/api/v1/patients/{patient}/corrections", body), 400)
        assert "Nested deeper" in str(problem["errors"])

    def test_brackets_inside_text_do_not_count_as_nesting(
        self, api: ApiClient, patient: str
    ) -> None:
        text = "[" * 100 + "{" * 100
        response = api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "progress", "modality": "CBT", "text": text},
        )
        assert response.status_code == 201, response.get_json()


class TestUnstorableText:
    @pytest.mark.parametrize("escape", [r"\ud800", r"\udfff", r"a\udc00b"])
    def test_a_lone_surrogate_in_a_note_is_400_naming_the_field(
        self, api: ApiClient, patient: str, escape: str
    ) -> None:
        before = head(api)
        body = b'{"kind": "progress", "modality": "CBT", "text": "' + escape.encode() + b'"}'
        problem = problem_of(raw_post(api, f"/api/v1/patients/{patient}/notes", body), 400)
        assert "text" in problem["errors"]
        assert head(api) == before

    def test_a_surrogate_pair_is_a_character_and_is_kept(
        self, api: ApiClient, patient: str
    ) -> None:
        body = b'{"kind": "progress", "modality": "CBT", "text": "calm \\ud83d\\ude00"}'
        assert raw_post(api, f"/api/v1/patients/{patient}/notes", body).status_code == 201

    def test_a_lone_surrogate_in_a_key_is_400(self, api: ApiClient, patient: str) -> None:
        body = b'{"kind": "progress", "modality": "CBT", "text": "x", "\\ud800": 1}'
        problem_of(raw_post(api, f"/api/v1/patients/{patient}/notes", body), 400)

    @pytest.mark.parametrize(
        "header", ["Idempotency-Key", "If-Match", "X-Request-ID", "Authorization"]
    )
    def test_a_nul_in_a_header_carelog_reads_is_400_naming_it(
        self, api: ApiClient, patient: str, header: str
    ) -> None:
        before = head(api)
        headers = api.headers("psychiatrist")
        headers[header] = headers.get(header, "abc") + "\x00x"
        response = api.client.post(
            f"/api/v1/patients/{patient}/notes",
            json={"kind": "progress", "modality": "CBT", "text": "x"},
            headers=headers,
        )
        assert header in problem_of(response, 400)["errors"]
        assert head(api) == before

    def test_a_nul_in_last_event_id_is_400(self, api: ApiClient) -> None:
        response = api.get("/api/v1/feed/stream", headers={"Last-Event-ID": "1\x00"})
        assert "Last-Event-ID" in problem_of(response, 400)["errors"]

    def test_a_nul_in_a_path_id_is_400(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            f"/api/v1/patients/{patient}/follow-ups/abc%00def/completion", {"outcome": "well"}
        )
        problem_of(response, 400)


class TestImplausibleNumbers:
    @pytest.mark.parametrize("amount", ["1e308", "1.7e308", "1e400", "NaN", "Infinity"])
    def test_a_non_finite_or_astronomic_dose_is_400_and_writes_nothing(
        self, api: ApiClient, patient: str, amount: str
    ) -> None:
        before = head(api)
        body = (
            b'{"drug": "sertraline", "dose": {"amount": ' + amount.encode() + b', "unit": "mg"}, '
            b'"frequency": "once daily", "route": "oral", "indication": "depression"}'
        )
        problem = problem_of(raw_post(api, f"/api/v1/patients/{patient}/medications", body), 400)
        assert "dose.amount" in problem["errors"] or "_schema" in problem["errors"]
        assert head(api) == before

    @pytest.mark.store_independent
    def test_a_dose_beyond_any_drug_in_any_unit_is_422_naming_the_amount(
        self, api: ApiClient, patient: str
    ) -> None:
        before = head(api)
        problem = problem_of(prescribe(api, patient, amount=250_000), 422)
        assert "dose.amount" in problem["errors"]
        assert head(api) == before

    @pytest.mark.store_independent
    def test_a_dose_change_to_an_implausible_amount_is_422(
        self, api: ApiClient, patient: str
    ) -> None:
        order = prescribe(api, patient).get_json()["order_id"]
        response = api.post(
            f"/api/v1/patients/{patient}/medications/{order}/dose-changes",
            {"dose": {"amount": 1e7, "unit": "mg"}, "reason": "typo"},
        )
        assert "dose.amount" in problem_of(response, 422)["errors"]

    @pytest.mark.store_independent
    def test_an_implausible_adherence_count_is_422(self, api: ApiClient, patient: str) -> None:
        order = prescribe(api, patient).get_json()["order_id"]
        response = api.post(
            f"/api/v1/patients/{patient}/adherence",
            {
                "order_id": order,
                "doses_taken": 10**9,
                "doses_missed": 0,
                "period_start": "2026-01-01",
                "period_end": "2026-01-31",
            },
        )
        assert "doses_taken" in problem_of(response, 422)["errors"]

    def test_an_enormous_lab_value_is_400(self, api: ApiClient, patient: str) -> None:
        response = api.post(
            f"/api/v1/patients/{patient}/labs",
            {"test": "lithium", "value": 1e300, "unit": "mmol/L"},
        )
        assert "value" in problem_of(response, 400)["errors"]


class TestClinicalTimes:
    @pytest.mark.parametrize(
        "when", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "1899-12-31T23:59:59Z"]
    )
    @pytest.mark.store_independent
    def test_an_effective_time_before_1900_is_422_naming_it(
        self, api: ApiClient, patient: str, when: str
    ) -> None:
        before = head(api)
        response = api.post(
            f"/api/v1/patients/{patient}/notes",
            {"kind": "progress", "modality": "CBT", "text": "x", "effective_at": when},
        )
        assert "effective_at" in problem_of(response, 422)["errors"]
        assert head(api) == before

    @pytest.mark.store_independent
    def test_an_effective_time_before_the_birth_date_is_422(
        self, api: ApiClient, patient: str
    ) -> None:  # the fixture's patient was born 1980-02-03
        response = api.post(
            f"/api/v1/patients/{patient}/notes",
            {
                "kind": "progress",
                "modality": "CBT",
                "text": "x",
                "effective_at": "1975-01-01T09:00:00Z",
            },
        )
        assert "born" in str(problem_of(response, 422)["errors"]["effective_at"]) or "birth" in str(
            response.get_json()["errors"]["effective_at"]
        )

    def test_a_late_entry_after_the_birth_date_is_recorded(
        self, api: ApiClient, patient: str
    ) -> None:
        response = api.post(
            f"/api/v1/patients/{patient}/notes",
            {
                "kind": "progress",
                "modality": "CBT",
                "text": "x",
                "effective_at": "1999-01-01T09:00:00Z",
            },
        )
        assert response.status_code == 201, response.get_json()

    @pytest.mark.store_independent
    def test_an_adherence_period_before_1900_is_422(self, api: ApiClient, patient: str) -> None:
        response = adherence_reported(api, patient, 1, 0, "0001-01-01", "2026-01-01")
        assert "period_start" in problem_of(response, 422)["errors"]

    @pytest.mark.store_independent
    def test_a_correction_to_year_1_is_422(self, api: ApiClient, patient: str) -> None:
        response = note_corrected(
            api, patient, {"effective_at": "0001-01-01T00:00:00+01:00"}, "typo"
        )
        problem_of(response, 422)


class TestOddMomentsInQueries:
    @pytest.mark.parametrize(
        "query",
        [
            "plan?as_of=0001-01-01T00:00:00%2B01:00",
            "plan?effective_at=0001-01-01T00:00:00%2B01:00",
            "plan?as_of=9999-12-31T23:59:59-01:00",
            "history?as_of=0001-01-01T00:00:00%2B01:00",
            "audit?since=0001-01-01T00:00:00%2B01:00",
            "fhir?as_of=0001-01-01T00:00:00%2B01:00",
        ],
    )
    def test_a_moment_at_the_edge_of_the_calendar_is_never_a_500(
        self, api: ApiClient, patient: str, query: str
    ) -> None:
        response = api.get(f"/api/v1/patients/{patient}/{query}")
        assert response.status_code in (200, 400, 422), response.get_data()[:300]


@pytest.mark.store_independent
class TestCorrectionsKeepTheSameBounds:
    @pytest.fixture
    def adherence_event(self, api: ApiClient, patient: str) -> str:
        response = adherence_reported(api, patient, 5, 1, "2026-01-01", "2026-01-07")
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["event_id"])

    def test_a_period_corrected_to_year_1_is_422(
        self, api: ApiClient, patient: str, adherence_event: str
    ) -> None:
        response = corrected(api, patient, adherence_event, {"period_start": "0001-01-01"})
        assert "period_start" in str(problem_of(response, 422)["errors"])

    def test_an_effective_time_corrected_to_before_birth_is_422(
        self, api: ApiClient, patient: str
    ) -> None:  # the fixture's patient was born 1980-02-03
        response = note_corrected(api, patient, {"effective_at": "1970-01-01T00:00:00Z"}, "x")
        assert "birth" in str(problem_of(response, 422)["errors"]["fields.effective_at"])

    def test_a_dose_corrected_to_an_implausible_amount_is_422(
        self, api: ApiClient, patient: str
    ) -> None:
        prescribed = prescribe(api, patient).get_json()
        response = corrected(
            api, patient, prescribed["event_id"], {"dose": {"amount": 5e6, "unit": "mg"}}
        )
        assert "fields" in problem_of(response, 422)["errors"]


@pytest.mark.store_independent
class TestOddQueryText:
    @pytest.mark.parametrize("raw", ["%ED%A0%80", "%FF%FE", "%C0%80"])
    def test_undecodable_bytes_in_a_query_are_never_a_500(self, api: ApiClient, raw: str) -> None:
        response = api.client.get(f"/api/v1/audit?action={raw}", headers=api.headers("auditor"))
        assert response.status_code in (200, 400)
