"""The OpenAPI 3.1 document is complete and served offline; fuzzing finds no 5xx and no
response that breaks its documented schema."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.api.conftest import ApiClient
from tests.api.openapi_support import FUZZ_GROUP, fuzzed_document

CONTRACT_PATHS = [
    ("post", "/api/v1/patients"),
    ("get", "/api/v1/patients"),
    ("post", "/api/v1/patients/{pid}/care-team"),
    ("post", "/api/v1/patients/{pid}/care-team/{cid}/removal"),
    ("post", "/api/v1/patients/{pid}/consents"),
    ("post", "/api/v1/patients/{pid}/assessments"),
    ("post", "/api/v1/patients/{pid}/medications"),
    ("post", "/api/v1/patients/{pid}/medications/{order_id}/dose-changes"),
    ("post", "/api/v1/patients/{pid}/medications/{order_id}/discontinuation"),
    ("post", "/api/v1/patients/{pid}/side-effects"),
    ("post", "/api/v1/patients/{pid}/notes"),
    ("post", "/api/v1/patients/{pid}/follow-ups"),
    ("post", "/api/v1/patients/{pid}/follow-ups/{follow_up_id}/completion"),
    ("post", "/api/v1/patients/{pid}/alerts/{alert_id}/resolution"),
    ("post", "/api/v1/patients/{pid}/corrections"),
    ("get", "/api/v1/patients/{pid}/plan"),
    ("get", "/api/v1/patients/{pid}/history"),
    ("get", "/api/v1/patients/{pid}/audit"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/dashboard"),
    ("get", "/api/v1/feed"),
    ("get", "/api/v1/feed/stream"),
    ("post", "/api/v1/patients/{pid}/emergency-access"),
]


@pytest.mark.store_independent  # one store is enough: tests/conftest.py
class TestOpenApiDocument:
    def test_every_contract_path_is_documented_with_security(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        assert spec["openapi"].startswith("3.1")
        assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
        documented = {
            (m, re.sub(r"\{[^}]+\}", "{}", p))
            for p, ops in spec["paths"].items()
            for m in ops
            if m in {"get", "post"}
        }
        for method, path in CONTRACT_PATHS:
            assert (method, re.sub(r"\{[^}]+\}", "{}", path)) in documented, path

    def test_writes_document_their_body_and_errors(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        post = spec["paths"]["/api/v1/patients/{pid}/medications"]["post"]
        assert "requestBody" in post
        assert {"201", "400", "401", "403", "404", "412", "422"} <= set(post["responses"])

    def test_docs_are_served_offline(self, api: ApiClient) -> None:
        page = api.client.get("/docs")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "https://" not in html.split("url:")[0]
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert api.client.get(f"/docs/static/{asset}").status_code == 200

    def test_health_checks_need_no_token(self, api: ApiClient) -> None:
        assert api.client.get("/healthz").status_code == 200
        ready = api.client.get("/readyz").get_json()
        assert "views" in ready
        assert "head" not in ready  # the log head is for operators (red-team F13)
        assert "integrity" not in ready
        for view in ready["views"]:
            assert set(view) == {"name", "lag_events", "lag_seconds", "state"}

    def test_an_admin_or_auditor_token_gets_the_head_and_integrity(self, api: ApiClient) -> None:
        for who in ("admin", "auditor"):
            ready = api.get("/readyz", as_=who).get_json()
            assert "head" in ready, who
            assert "integrity" in ready, who
        assert "head" not in api.get("/readyz", as_="psychiatrist").get_json()

    def test_readiness_reports_the_last_verified_position_and_checkpoint(
        self, api: ApiClient, patient: str
    ) -> None:
        never = api.get("/readyz", as_="admin").get_json()["integrity"]
        assert never["verified_position"] is None
        assert never["checkpoint"] is None
        head = api.carelog.app.recorder.max_notification_id()
        assert api.carelog.integrity.checkpoint() is not None
        assert api.carelog.integrity.verify().ok
        ready = api.get("/readyz", as_="admin")
        assert ready.status_code == 200
        integrity = ready.get_json()["integrity"]
        assert integrity["verified_position"] == head
        assert integrity["verified_ok"] is True
        assert integrity["first_problem"] is None
        assert integrity["checkpoint"]["positions"]["events"] == head


def _operations(spec: dict[str, Any], method: str) -> list[tuple[str, dict[str, Any]]]:
    return [(p, ops[method]) for p, ops in spec["paths"].items() if method in ops]


def _header_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def _schema(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    return found


@pytest.mark.store_independent  # one store is enough: tests/conftest.py
class TestOpenApiConventions:
    """The headers, operations endpoints and bodies API.md promises are all in the document."""

    def test_every_write_declares_idempotency_key_and_if_match(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        writes = _operations(spec, "post")
        assert len(writes) >= 15
        for path, operation in writes:
            headers = _header_names(operation)
            assert "Idempotency-Key" in headers, path
            if path != "/api/v1/patients":  # no record, hence no version, before it exists
                assert "If-Match" in headers, path

    def test_every_write_declares_its_etag_and_result_schema(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        for path, operation in _operations(spec, "post"):
            created = operation["responses"]["201"]
            assert "ETag" in created["headers"], path
            body = created["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/WriteResult"}, path

    def test_the_stream_declares_last_event_id(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        stream = spec["paths"]["/api/v1/feed/stream"]["get"]
        assert "Last-Event-ID" in _header_names(stream)

    def test_every_503_declares_retry_after(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        waits = [
            (path, op)
            for path, ops in spec["paths"].items()
            for op in ops.values()
            if isinstance(op, dict)
            and "503" in op.get("responses", {})
            and path != "/readyz"  # "store unreachable": nothing to retry after
        ]
        assert {"/api/v1/patients/{pid}/plan", "/api/v1/patients/{pid}/history"} <= {
            p for p, _ in waits
        }
        for path, operation in waits:
            assert "Retry-After" in operation["responses"]["503"]["headers"], path

    def test_reads_that_wait_declare_min_position(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        for path in ("plan", "history", "audit"):
            operation = spec["paths"][f"/api/v1/patients/{{pid}}/{path}"]["get"]
            names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
            assert "min_position" in names, path
            assert "503" in operation["responses"], path

    def test_operations_endpoints_are_documented(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        for path in ("/healthz", "/readyz"):
            operation = spec["paths"][path]["get"]
            assert operation["security"] == [], path  # no token needed
            assert "$ref" in operation["responses"]["200"]["content"]["application/json"]["schema"]
        metrics = spec["paths"]["/metrics"]["get"]
        assert "text/plain" in metrics["responses"]["200"]["content"]
        assert {"401", "403"} <= set(metrics["responses"])
        assert "security" not in metrics  # the bearer token, like every API endpoint

    def test_feed_items_are_cloudevents_with_a_schema(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        feed = spec["components"]["schemas"]["FeedOut"]
        item = _schema(spec, feed["properties"]["items"]["items"])
        assert {"specversion", "id", "source", "type", "subject", "time", "data"} <= set(
            item["required"]
        )
        data = _schema(spec, item["properties"]["data"])
        assert {"effective_at", "position", "actor"} <= set(data["required"])
        assert data["additionalProperties"] is True  # each type's own fields

    def test_dashboard_patients_have_a_schema(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        board = spec["components"]["schemas"]["DashboardOut"]
        row = _schema(spec, board["properties"]["patients"]["items"])
        assert {"patient_id", "urgency", "suicide_risk", "reasons", "open_alerts"} <= set(
            row["required"]
        )
        reason = _schema(spec, row["properties"]["reasons"]["items"])
        assert {"kind", "severity", "message", "at"} <= set(reason["required"])

    def test_the_follow_up_example_in_docs_is_accepted_as_sent(
        self, api: ApiClient, patient: str
    ) -> None:
        """Swagger UI's "Try it out" sends the property examples: the due time must be
        one the API accepts (in the future), not the moment the page was opened."""
        spec = api.client.get("/openapi.json").get_json()
        props = spec["components"]["schemas"]["FollowUpIn"]["properties"]
        example = props["due_at"]["example"]
        sent = api.post(
            f"/api/v1/patients/{patient}/follow-ups",
            {"due_at": example, "purpose": "Review sleep"},
        )
        assert sent.status_code == 201, sent.get_json()

    def test_a_resolution_requires_a_reason(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        assert {"resolution", "reason"} <= set(
            spec["components"]["schemas"]["ResolutionIn"]["required"]
        )


@pytest.mark.store_independent  # one store is enough: tests/conftest.py
class TestResponsesFollowTheirSchemas:
    def test_a_write_answer_carries_only_declared_fields(
        self, api: ApiClient, patient: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from services.writing.application import WriteResult

        declared = WriteResult.as_dict

        def leaky(self: WriteResult) -> dict[str, Any]:
            return {**declared(self), "undeclared_internal": "must not be sent"}

        monkeypatch.setattr(WriteResult, "as_dict", leaky)
        body = {"kind": "progress", "modality": "supportive", "text": "x"}
        first = api.post(
            f"/api/v1/patients/{patient}/notes", body, headers={"Idempotency-Key": "schema-1"}
        )
        again = api.post(
            f"/api/v1/patients/{patient}/notes", body, headers={"Idempotency-Key": "schema-1"}
        )
        assert first.status_code == again.status_code == 201
        assert "undeclared_internal" not in first.get_json()
        assert again.get_json() == first.get_json()
        assert {"event_id", "patient_id", "version", "position", "note_id"} <= set(first.get_json())

    def test_dashboard_and_feed_answers_match_their_schemas(
        self, api: ApiClient, patient: str
    ) -> None:
        api.post(
            f"/api/v1/patients/{patient}/assessments",
            {"instrument": "PHQ-9", "item_scores": [2] * 9},
            as_="therapist",
        )
        api.catch_up()
        spec = api.client.get("/openapi.json").get_json()
        schemas = spec["components"]["schemas"]
        row = api.get("/api/v1/dashboard").get_json()["patients"][0]
        assert set(schemas["DashboardPatientOut"]["required"]) <= set(row)
        assert set(row) <= set(schemas["DashboardPatientOut"]["properties"])
        items = api.get("/api/v1/feed").get_json()["items"]
        assert items
        for item in items:
            assert set(schemas["CloudEventOut"]["required"]) <= set(item)
            assert set(item) <= set(schemas["CloudEventOut"]["properties"])
            assert item["specversion"] == "1.0"
            assert isinstance(item["data"]["position"], int)
        assessed = [i for i in items if i["type"] == "carelog.assessment.recorded.v1"]
        assert assessed[0]["data"]["total"] == 18  # the type's own fields are kept


SENT = 10
"""Requests the per-store fuzzer sends to each operation, on each store."""


@pytest.mark.slow
@pytest.mark.unencrypted  # a store may refuse what it is sent: both, in the clear
@pytest.mark.xdist_group(FUZZ_GROUP)
def test_fuzzing_finds_no_server_error_and_no_schema_violation(
    app: Flask, api: ApiClient, patient: str
) -> None:
    """Each store is sent the same requests, drawn once (tests/api/openapi_support.py)."""
    document = fuzzed_document(app)
    token = api.team.tokens["psychiatrist"]
    failures: list[str] = []
    for operation in document.operations:
        if operation.path.endswith("/feed/stream"):  # endless; the SSE tests cover it
            continue
        for drawn in document.cases(operation)[:SENT]:
            case = drawn.derive()
            if case.path_parameters and "pid" in case.path_parameters:
                case.path_parameters["pid"] = patient
            response = case.call(app=app, headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500 and response.status_code != 503:  # 503: min_position
                failures.append(f"{operation.label}: {response.status_code}")
            try:
                # Our token is sent explicitly, so the "ignored auth" probe is moot; and the
                # contract answers well-formed but clinically invalid input with 422, which
                # "positive data acceptance" would count as a failure.
                case.validate_response(
                    response,
                    excluded_checks=[ignored_auth, positive_data_acceptance, not_a_server_error],
                )
            except Exception as exc:  # every failure is reported; the run goes on
                failures.append(f"{operation.label} -> {response.status_code}: {exc}")
    assert not failures, "\n".join(failures[:20])
