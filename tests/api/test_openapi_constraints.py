"""The OpenAPI document states what the validation enforces: a value the document allows
passes the request schemas' shape checks, the documented vocabularies are the domain's,
the query patterns accept exactly what the code accepts, and every operation documents
the problems it can answer with.

The document is the same over any store, so it is read once, from an app over SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from marshmallow import Schema, ValidationError

from domain.actor import CLINICAL_ROLES
from domain.alert_resolution import ACTIONS, RISK_RESULTS
from domain.dose import ROUTES, UNITS
from domain.patient_commands import (
    CONSENT_DECISIONS,
    CONSENT_SCOPES,
    GOAL_STATUSES,
    MODALITIES,
    NOTE_KINDS,
    RESOLUTIONS,
    SEVERITIES,
)
from domain.problem_list import PREGNANCY_STATUSES, SEXES_AT_BIRTH, VERIFICATION_STATUSES
from domain.scoring import ALL_INSTRUMENTS
from projections.dashboard_ranking import KINDS as DASHBOARD_KINDS
from services.bootstrap import CareLog
from services.config import Config
from services.reading.history import public_event_types
from tests.api.openapi_support import FUZZ_GROUP, fuzzed_document
from web import create_app
from web.audit import _action
from web.errors import MalformedError
from web.schemas.common import CLINICAL_REFUSALS

UNSTATABLE = {"Give a moment between the years 1 and 9999 in UTC."}
"""Refusals JSON Schema has no keyword for (a date-time's range): said in words instead.
The clinical refusals (a time before 1900, an implausible dose) are answered 422 and are
likewise described, not shape."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("document")
    carelog = CareLog(
        Config(
            database_url=f"sqlite:///{tmp / 'carelog.db'}",
            checkpoint_dir=str(tmp),
            run_projections=False,
            group_commit_ms=0,
            secret_key="document-test",
        )
    )
    yield create_app(carelog=carelog)
    carelog.close()


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    document: dict[str, Any] = app.test_client().get("/openapi.json").get_json()
    return document


def request_schemas(app: Flask) -> dict[tuple[str, str], dict[str, type[Schema]]]:
    """(METHOD, documented path) -> {"json" or "query": the marshmallow schema it loads}."""
    found: dict[tuple[str, str], dict[str, type[Schema]]] = {}
    for rule in app.url_map.iter_rules():
        arguments = getattr(app.view_functions[rule.endpoint], "_apidoc", {}).get("arguments")
        if not arguments:
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method in {"GET", "POST"}:
                found[(method, path)] = {p["in"]: p["schema"] for p in arguments["parameters"]}
    return found


def shape_refusals(error: ValidationError) -> list[str]:
    """The messages of a refusal that are about shape (a 400), not clinical (a 422)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif value not in CLINICAL_REFUSALS and value not in UNSTATABLE:
            found.append(str(value))

    walk(error.messages)
    return found


class TestTheDocumentAllowsOnlyWhatValidationAccepts:
    @pytest.mark.slow  # a fuzzer over every operation (minutes): make test, not test-quick
    @pytest.mark.xdist_group(FUZZ_GROUP)
    def test_every_request_the_document_allows_passes_the_shape_checks(self, app: Flask) -> None:
        """The requests are drawn once per process, shared with the per-store fuzzer
        (tests/api/openapi_support.py)."""
        schemas = request_schemas(app)
        document = fuzzed_document(app)
        checked = 0
        for operation in document.operations:
            loaders = schemas.get((operation.method.upper(), operation.path), {})
            if not loaders:
                continue
            checked += 1
            refusals = refused_of_allowed(document.cases(operation), loaders)
            assert not refusals, f"{operation.label}: {refusals[:5]}"
        assert checked >= 35


def refused_of_allowed(
    cases: list[schemathesis.Case], loaders: dict[str, type[Schema]]
) -> list[str]:
    """Of ``cases``, requests the document allows, those its request schemas refuse for
    their shape."""
    refusals: list[str] = []
    for case in cases:
        sent = {"json": case.body, "query": {k: str(v) for k, v in (case.query or {}).items()}}
        for where, schema in loaders.items():
            try:
                schema().load(sent[where])
            except ValidationError as error:
                refusals.extend(f"{where} {sent[where]!r}: {m}" for m in shape_refusals(error))
    return refusals


def _enum(spec: dict[str, Any], schema: str, field: str) -> list[str]:
    prop = spec["components"]["schemas"][schema]["properties"][field]
    values: list[str] = prop["enum"]
    return values


class TestDocumentedVocabulariesAreTheDomains:
    @pytest.mark.parametrize(
        ("schema", "field", "vocabulary"),
        [
            ("MedicationIn", "route", ROUTES),
            ("Dose", "unit", UNITS),
            ("NoteIn", "kind", NOTE_KINDS),
            ("NoteIn", "modality", MODALITIES),
            ("SideEffectIn", "severity", SEVERITIES),
            ("ConsentIn", "scope", CONSENT_SCOPES),
            ("ConsentIn", "decision", CONSENT_DECISIONS),
            ("AssessmentIn", "instrument", ALL_INSTRUMENTS),
            ("GoalStatusIn", "status", GOAL_STATUSES),
            ("ResolutionIn", "resolution", RESOLUTIONS),
            ("ResolutionIn", "action", ACTIONS),
            ("ResolutionIn", "result", RISK_RESULTS),
            ("CareTeamMemberIn", "role", tuple(str(r) for r in CLINICAL_ROLES)),
            ("PatientIn", "sex_at_birth", SEXES_AT_BIRTH),
            ("SexAtBirthIn", "sex_at_birth", SEXES_AT_BIRTH),
            ("ConditionIn", "verification_status", VERIFICATION_STATUSES),
            ("PregnancyStatusIn", "status", PREGNANCY_STATUSES),
            ("DashboardReasonOut", "kind", DASHBOARD_KINDS),
        ],
    )
    def test_the_enum_is_the_domain_vocabulary(
        self, spec: dict[str, Any], schema: str, field: str, vocabulary: tuple[str, ...]
    ) -> None:
        assert sorted(_enum(spec, schema, field)) == sorted(vocabulary)

    def test_item_scores_are_bounded_as_the_scoring_is(self, spec: dict[str, Any]) -> None:
        scores = spec["components"]["schemas"]["AssessmentIn"]["properties"]["item_scores"]
        assert scores["items"] == {"type": "integer", "minimum": 0, "maximum": 3}
        assert scores["maxItems"] == 9


def _query_pattern(spec: dict[str, Any], path: str, name: str) -> str:
    operation = spec["paths"][path]["get"]
    (param,) = [p for p in operation["parameters"] if p["name"] == name]
    pattern: str = param["schema"]["pattern"]
    return pattern


def _audit_accepts(action: str) -> bool:
    try:
        _action({"action": action})
    except MalformedError:
        return False
    return True


class TestQueryPatternsAcceptWhatTheCodeAccepts:
    ACTIONS = (
        "DoseChanged",
        "PatientRegistered",
        "export.log",
        "read:plan",
        "denied:history",
        "read:*",
        "Dose*",
        "Dose",
        "*",
        "rea*",
        "read:",
        "zz*",
        "DoseChangedd",
        "plan",
        "",
    )

    @pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/patients/{pid}/audit"])
    def test_the_audit_action_pattern_is_the_filter(self, spec: dict[str, Any], path: str) -> None:
        pattern = re.compile(_query_pattern(spec, path, "action"))
        for action in (*self.ACTIONS, *public_event_types()):
            assert bool(pattern.search(action)) == _audit_accepts(action), action

    def test_the_history_type_pattern_names_every_event_type(self, spec: dict[str, Any]) -> None:
        pattern = re.compile(_query_pattern(spec, "/api/v1/patients/{pid}/history", "type"))
        types = public_event_types()
        assert pattern.search(",".join(types))
        assert pattern.search(f" {types[0]} , {types[-1]},")
        assert not pattern.search("DoseChanged,NoSuchEvent")
        assert not pattern.search("dosechanged")

    def test_the_dashboard_kinds_pattern_names_every_kind(self, spec: dict[str, Any]) -> None:
        pattern = re.compile(_query_pattern(spec, "/api/v1/dashboard", "kinds"))
        assert pattern.search(",".join(DASHBOARD_KINDS))
        assert not pattern.search("alerts,urgent")


class TestEveryOperationDocumentsItsProblems:
    def test_problems_are_problem_json(self, spec: dict[str, Any]) -> None:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if method not in {"get", "post"}:
                    continue
                for status, response in operation["responses"].items():
                    if not status.startswith("4") or path in {"/healthz", "/readyz"}:
                        continue
                    content = response["content"]["application/problem+json"]
                    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}, (
                        method,
                        path,
                        status,
                    )

    def test_each_operation_declares_the_refusals_it_can_give(self, spec: dict[str, Any]) -> None:
        for path, operations in spec["paths"].items():
            if not path.startswith("/api/"):
                continue
            for method, operation in operations.items():
                if method not in {"get", "post"}:
                    continue
                declared = set(operation["responses"])
                assert {"400", "401", "403", "429"} <= declared, (method, path)
                if "{pid}" in path:
                    assert {"404", "410"} <= declared, (method, path)
                if method == "post":
                    assert {"413", "415", "422"} <= declared, (method, path)
