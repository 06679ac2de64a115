"""Re-confirming a single sign-on page session with the provider, for the provider's
answers a real provider cannot be made to give on cue: unreachable, a bare 401, a user
moved out of every mapped group. (The real provider's removed user is in
tests/e2e/test_pages_sso.py.) The provider here is a fake at the HTTP boundary; the
session records are CareLog's own, in the test's store."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from services.access.oidc import SingleSignOn
from services.access.oidc.provider import ProviderError
from services.access.oidc.sessions import unseal
from services.bootstrap import CareLog
from services.config import Config

ISSUER = "https://idp.hospital.test"
INTERVAL = 60.0


class FakeProvider:
    """Discovery, token and userinfo endpoints answering as the test sets them."""

    def __init__(self) -> None:
        self.token_answer: Any = (200, {"access_token": "a2", "refresh_token": "r2"})
        self.groups = ["carelog-psychiatrists"]
        self.refreshed_with: list[str] = []

    def __call__(self, request: urllib.request.Request) -> tuple[int, bytes]:
        url = request.full_url
        if url.endswith("/.well-known/openid-configuration"):
            return 200, json.dumps(
                {
                    "issuer": ISSUER,
                    "token_endpoint": ISSUER + "/token",
                    "userinfo_endpoint": ISSUER + "/me",
                    "jwks_uri": ISSUER + "/jwks",
                }
            ).encode()
        if url.endswith("/token"):
            form = urllib.parse.parse_qs(bytes(request.data or b"").decode())
            self.refreshed_with.append(form["refresh_token"][0])
            if isinstance(self.token_answer, Exception):
                raise self.token_answer
            status, body = self.token_answer
            return status, json.dumps(body).encode() if body is not None else b""
        if url.endswith("/me"):
            return 200, json.dumps({"sub": "u1", "name": "Dr U", "groups": self.groups}).encode()
        return 404, b"{}"


@pytest.fixture
def config(config: Config) -> Config:
    return config.with_(
        oidc_issuer=ISSUER,
        oidc_client_id="carelog",
        oidc_client_secret="s3cret",
        oidc_role_map="carelog-psychiatrists=psychiatrist",
        oidc_revalidate_seconds=INTERVAL,
    )


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def sso(carelog: CareLog, config: Config, fake: FakeProvider) -> SingleSignOn:
    return SingleSignOn(config, carelog.staff, http=fake)


def signed_in(sso: SingleSignOn, confirmed_ago: float) -> str:
    """A session signed in through the provider, due for its check, last confirmed
    ``confirmed_ago`` seconds ago."""
    member = sso.identities.member(
        {"sub": "u1", "name": "Dr U", "groups": ["carelog-psychiatrists"]}
    )
    secret = sso.staff.start_session_for(member, timedelta(hours=1))
    sso.remember(
        secret, {"refresh_token": "r1", "access_token": "a1", "id_token": None, "sub": "u1"}
    )
    sso.sessions.db.execute(
        "UPDATE staff_session_oidc SET next_check_at = 0, confirmed_at = ?",
        (time.time() - confirmed_ago,),
    )
    return secret


class TestRevalidation:
    def test_a_confirmed_session_goes_on_with_the_providers_new_refresh_token(
        self, sso: SingleSignOn, fake: FakeProvider
    ) -> None:
        secret = signed_in(sso, 61)
        assert sso.still_valid(secret)
        row = sso.sessions.get(secret)
        assert row is not None
        assert (unseal(secret, row["tokens"]) or {})["refresh_token"] == "r2"
        assert sso.still_valid(secret)  # not due again for INTERVAL seconds
        assert fake.refreshed_with == ["r1"]

    def test_a_bare_401_from_the_provider_ends_the_session(
        self, sso: SingleSignOn, fake: FakeProvider
    ) -> None:
        fake.token_answer = (401, None)
        assert not sso.still_valid(signed_in(sso, 61))

    def test_a_user_moved_out_of_every_mapped_group_is_signed_out(
        self, sso: SingleSignOn, fake: FakeProvider
    ) -> None:
        fake.groups = ["hospital-visitors"]
        assert not sso.still_valid(signed_in(sso, 61))

    def test_an_unreachable_provider_keeps_a_session_for_two_intervals_then_ends_it(
        self, sso: SingleSignOn, fake: FakeProvider
    ) -> None:
        fake.token_answer = ProviderError("connection refused")
        assert sso.still_valid(signed_in(sso, INTERVAL + 1))
        assert not sso.still_valid(signed_in(sso, 2 * INTERVAL + 1))

    def test_only_one_request_asks_the_provider_while_a_check_is_under_way(
        self, sso: SingleSignOn, fake: FakeProvider
    ) -> None:
        fake.token_answer = ProviderError("slow")
        secret = signed_in(sso, 61)
        assert sso.still_valid(secret)
        assert sso.still_valid(secret)  # retried only after RETRY_SECONDS
        assert fake.refreshed_with == ["r1"]

    def test_a_session_signed_in_with_a_staff_token_is_not_asked_about(
        self, sso: SingleSignOn, carelog: CareLog, fake: FakeProvider
    ) -> None:
        _, token = carelog.staff.add("Dr Token", "psychiatrist")
        started = carelog.staff.start_session(token, None, timedelta(hours=1))
        assert started is not None
        assert sso.still_valid(started[1])
        assert fake.refreshed_with == []
