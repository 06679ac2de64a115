"""The pages over plain HTTP (no browser): sign-in sends a clinician only to a page of this
site, and no value a record holds, however odd (an old log's 1.7e308 mg), stops a page or
a read from answering."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from domain.patient_record import PatientRecord
from tests.api.conftest import ApiClient, prescribe

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py

SITE = "https://localhost"
"""The session cookie is ``__Host-``/Secure: the test client must speak HTTPS to keep it."""


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path, base_url=SITE).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def sign_in(api: ApiClient, as_: str = "psychiatrist", next_: str | None = None) -> Any:
    form = {"token": api.team.tokens[as_], "csrf_token": csrf_of(api.client)}
    if next_ is not None:
        form["next"] = next_
    return api.client.post("/login", data=form, base_url=SITE)


HOSTILE_NEXT = [
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\nSet-Cookie: x=1",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%2f/evil.example",
    "https://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "/ /evil.example",
    "/\x00/evil.example",
    "evil.example",
]


class TestSignInNext:
    @pytest.mark.parametrize("target", HOSTILE_NEXT)
    def test_a_next_that_could_leave_the_site_falls_back_to_the_landing_page(
        self, api: ApiClient, target: str
    ) -> None:
        response = sign_in(api, next_=target)
        if "\x00" in target:  # a NUL in any form field is refused before sign-in is tried
            assert response.status_code == 400
            return
        assert response.status_code == 303, response.get_data()[:300]
        assert response.headers["Location"] == "/dashboard"

    @pytest.mark.parametrize("target", HOSTILE_NEXT)
    def test_the_sign_in_form_never_carries_a_hostile_next(
        self, api: ApiClient, target: str
    ) -> None:
        response = api.client.get("/login", query_string={"next": target}, base_url=SITE)
        assert response.status_code in (200, 400)  # 400: a NUL in the query string
        assert 'name="next"' not in response.get_data(as_text=True)

    @pytest.mark.parametrize("token", ["abc\x00def", "\x00", "id\x00.secret"])
    def test_a_nul_in_the_sign_in_form_is_refused_not_a_500(
        self, api: ApiClient, token: str
    ) -> None:
        form = {"token": token, "csrf_token": csrf_of(api.client)}
        response = api.client.post("/login", data=form, base_url=SITE)
        assert response.status_code in (400, 401), response.get_data()[:300]

    def test_a_page_of_this_site_is_where_sign_in_leads(self, api: ApiClient) -> None:
        response = sign_in(api, next_="/alerts?patient=x&sort=due")
        assert response.status_code == 303
        assert response.headers["Location"] == "/alerts?patient=x&sort=due"


def store_directly(
    api: ApiClient, pid: str, event_class: Any, effective_at: datetime | None = None, **fields: Any
) -> None:
    """Append an event as an old log might hold it: through the application, past every
    check today's commands make (the clinical time included)."""
    app = api.carelog.app
    record = app.get_record(pid)
    now = datetime.now(UTC)
    record.trigger_event(
        event_class,
        event_id=str(uuid4()),
        actor_id=api.team.psychiatrist.id,
        actor_role="psychiatrist",
        effective_at=effective_at or now,
        correlation_id=str(uuid4()),
        timestamp=now,
        **fields,
    )
    app.save(record)
    api.catch_up()


@pytest.fixture
def odd_chart(api: ApiClient, patient: str) -> str:
    """A patient whose log holds values no command accepts any more."""
    order = prescribe(api, patient).get_json()["order_id"]
    store_directly(
        api,
        patient,
        PatientRecord.DoseChanged,
        order_id=order,
        dose={"amount": 1.7e308, "unit": "mg"},
        frequency="twice daily",
        reason="from an old log",
    )
    store_directly(
        api,
        patient,
        PatientRecord.LabResultRecorded,
        lab_id="lab-odd",
        test="lithium",
        value=1e308,
        unit="mmol/L",
    )
    store_directly(  # year 1 was accepted as a clinical time until the floor of 1900
        api,
        patient,
        PatientRecord.DoseChanged,
        effective_at=datetime(1, 1, 1, tzinfo=UTC),
        order_id=order,
        dose={"amount": 75.0, "unit": "mg"},
        frequency="once daily",
        reason="from an old log, back-dated to year 1",
    )
    store_directly(
        api,
        patient,
        PatientRecord.AdherenceReported,
        adherence_id="adh-odd",
        order_id=order,
        doses_taken=10**18,
        doses_missed=0,
        period_start="0001-01-01",
        period_end="9999-12-31",
    )
    return patient


class TestOddStoredValues:
    def test_the_timeline_page_still_answers(self, api: ApiClient, odd_chart: str) -> None:
        assert sign_in(api).status_code == 303
        response = api.client.get(f"/patients/{odd_chart}", base_url=SITE)
        assert response.status_code == 200, response.get_data()[:500]

    @pytest.mark.parametrize("clock", ["recorded", "effective"])
    def test_the_timeline_page_answers_under_either_clock(
        self, api: ApiClient, odd_chart: str, clock: str
    ) -> None:
        sign_in(api)
        response = api.client.get(
            f"/patients/{odd_chart}", query_string={"clock": clock}, base_url=SITE
        )
        assert response.status_code == 200

    @pytest.mark.parametrize("page", ["/dashboard", "/alerts"])
    def test_the_team_pages_still_answer(self, api: ApiClient, odd_chart: str, page: str) -> None:
        sign_in(api)
        assert api.client.get(page, base_url=SITE).status_code == 200

    def test_the_audit_review_page_still_answers(self, api: ApiClient, odd_chart: str) -> None:
        sign_in(api, "auditor")
        for query in ({}, {"patient": odd_chart}):
            response = api.client.get("/audit-review", query_string=query, base_url=SITE)
            assert response.status_code == 200, response.get_data()[:300]
        response = api.client.get(f"/patients/{odd_chart}", base_url=SITE)
        assert response.status_code == 200

    @pytest.mark.parametrize("rest", ["plan", "history", "fhir", "export"])
    def test_the_api_reads_still_answer(self, api: ApiClient, odd_chart: str, rest: str) -> None:
        response = api.get(f"/api/v1/patients/{odd_chart}/{rest}")
        assert response.status_code == 200, response.get_data()[:500]

    def test_an_as_of_in_year_1_is_a_refusal_not_a_500(self, api: ApiClient, patient: str) -> None:
        sign_in(api)
        response = api.client.get(
            f"/patients/{patient}",
            query_string={"as_of": "0001-01-01T00:00:00+01:00"},
            base_url=SITE,
        )
        assert response.status_code in (400, 422)
