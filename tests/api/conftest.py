"""API test fixtures: the Flask app over the store-parametrised CareLog, a client that
speaks as any test staff member, and a patient with a full care team."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.bootstrap import CareLog
from tests.conftest import Team
from web import create_app


@pytest.fixture
def app(carelog: CareLog) -> Iterator[Flask]:
    application = create_app(carelog=carelog)
    application.testing = True
    return application


@dataclass
class ApiClient:
    """Sends requests as a named test staff member (``as_=None``: no token)."""

    client: FlaskClient
    team: Team
    carelog: CareLog

    def headers(self, as_: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.team.tokens[as_]}"
        return headers

    def get(self, path: str, as_: str | None = "psychiatrist", **kw: Any) -> Any:
        headers = self.headers(as_, kw.pop("headers", None))
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, json: Any = None, as_: str | None = "psychiatrist", **kw: Any) -> Any:
        headers = self.headers(as_, kw.pop("headers", None))
        return self.client.post(path, json=json, headers=headers, **kw)

    def catch_up(self) -> None:
        self.carelog.views.catch_up()


@pytest.fixture
def api(app: Flask, team: Team, carelog: CareLog) -> ApiClient:
    return ApiClient(app.test_client(), team, carelog)


def register_patient(api: ApiClient, mrn: str = "MRN-API-1") -> str:
    response = api.post(
        "/api/v1/patients", {"external_id": mrn, "name": "Api Patient", "birth_date": "1980-02-03"}
    )
    assert response.status_code == 201, response.get_json()
    pid: str = response.get_json()["patient_id"]
    for member in ("therapist", "pharmacist", "prescribing_pharmacist"):
        actor = getattr(api.team, member)
        r = api.post(
            f"/api/v1/patients/{pid}/care-team", {"clinician_id": actor.id, "role": str(actor.role)}
        )
        assert r.status_code == 201, r.get_json()
    return pid


@pytest.fixture
def patient(api: ApiClient) -> str:
    return register_patient(api)


def problem_naming(response: Any, status: int, field: str) -> dict[str, Any]:
    """A refusal with ``status`` whose field errors name ``field``: those errors."""
    assert response.status_code == status, response.get_json()
    errors: dict[str, Any] = response.get_json()["errors"]
    assert field in errors, errors
    return errors


def prescribe(
    api: ApiClient,
    pid: str,
    drug: str = "sertraline",
    amount: float = 50,
    as_: str = "psychiatrist",
    **extra: Any,
) -> Any:
    body = {
        "drug": drug,
        "dose": {"amount": amount, "unit": "mg"},
        "frequency": "once daily",
        "route": "oral",
        "indication": "depression",
        **extra,
    }
    return api.post(f"/api/v1/patients/{pid}/medications", body, as_=as_)
