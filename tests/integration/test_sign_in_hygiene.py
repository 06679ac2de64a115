"""Sign-in hygiene: a failed sign-in costs the same whether the staff id exists or not (one
scrypt, one access-log entry), and failures are limited per (id, source address) pair and
per source, across server processes, for bearer tokens and the sign-in page alike (429
with ``Retry-After``), without letting anyone who knows a staff id lock its owner out."""

from __future__ import annotations

import hashlib
import http.client
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.access.sign_in_limits import SignInThrottledError
from services.bootstrap import CareLog
from tests.integration.served import PageSession, environment, run_cli, served
from web import create_app

PER_ID = 3
PER_SOURCE = 6


def counting_scrypt(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts scrypt runs (the cost a failed sign-in must pay whatever the id)."""
    calls: list[int] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def scrypt(*args: Any, **kwargs: Any) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    return calls


class TestFailedSignInsCostTheSame:
    def test_an_unknown_an_inactive_and_a_real_id_each_cost_one_scrypt(
        self, carelog: CareLog, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        staff = carelog.staff
        real, _ = staff.add("Real Person", "therapist")
        gone, _ = staff.add("Gone Person", "therapist")
        staff.deactivate(gone.id)
        calls = counting_scrypt(monkeypatch)
        for token in (
            f"{real.id}.wrong-secret",
            f"{uuid.uuid4()}.wrong-secret",
            f"{gone.id}.wrong-secret",
        ):
            before = len(calls)
            assert staff.authenticate(token, "192.0.2.1") is None
            assert len(calls) - before == 1, token


@pytest.fixture
def env(store: str, tmp_path: Path) -> dict[str, str]:
    return environment(
        store,
        tmp_path,
        CARELOG_SIGN_IN_FAILURES_PER_ID=str(PER_ID),
        CARELOG_SIGN_IN_FAILURES_PER_SOURCE=str(PER_SOURCE),
    )


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 300


def get_from(source: str, url: str, path: str, token: str) -> int:
    """GET as a client at another loopback address (127.0.0.2 ...), for a second source."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.served
class TestSignInLimitsOverHttp:
    def test_an_id_that_failed_too_often_from_an_address_gets_429_there_on_every_server(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        target = run_cli(env, "users", "add", "Target Person", "--role", "therapist")
        bystander = run_cli(env, "users", "add", "Other Person", "--role", "therapist")
        with served(env, tmp_path, count=2) as servers:
            for n in range(PER_ID):  # failures on both processes count together
                wrong = f"{target['id']}.guess-{n}"
                assert servers[n % 2].get("/api/v1/patients", wrong).status_code == 401

            for server in servers:
                refused = server.get("/api/v1/patients", target["token"])
                assert_throttled(refused)
                assert refused.headers["Content-Type"].startswith("application/problem+json")
                assert server.get("/api/v1/patients", bystander["token"]).status_code == 200

    def test_someone_who_knows_a_staff_id_cannot_lock_its_owner_out(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        victim = run_cli(env, "users", "add", "Victim Person", "--role", "psychiatrist")
        with served(env, tmp_path, count=2) as servers:
            for n in range(PER_SOURCE):  # the attacker, at 127.0.0.1, until refused
                status = servers[n % 2].get("/api/v1/patients", f"{victim['id']}.x{n}").status_code
                assert status in (401, 429)
            assert_throttled(servers[0].get("/api/v1/patients", f"{victim['id']}.again"))
            for server in servers:  # the victim, elsewhere, signs in as ever
                assert get_from("127.0.0.2", server.url, "/api/v1/patients", victim["token"]) == 200

    def test_one_address_guessing_many_ids_is_limited(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        fresh = run_cli(env, "users", "add", "Fresh Person", "--role", "therapist")
        with served(env, tmp_path) as (server,):
            for _ in range(PER_SOURCE):
                guess = f"{uuid.uuid4()}.guess"
                assert server.get("/api/v1/patients", guess).status_code == 401

            assert_throttled(server.get("/api/v1/patients", fresh["token"]))

    def test_the_sign_in_page_answers_429_with_retry_after(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        target = run_cli(env, "users", "add", "Page Person", "--role", "therapist")
        with served(env, tmp_path) as (server,):
            page = PageSession(server)
            page.get("/login")
            for n in range(PER_ID):
                failed = page.post("/login", {"token": f"{target['id']}.guess-{n}"})
                assert failed.status_code == 401

            refused = page.post("/login", {"token": target["token"]})
            assert_throttled(refused)
            assert "Too many failed sign-ins" in refused.text
            assert page.get("/dashboard").status_code == 303  # not signed in


class TestSignInLimits:
    def test_a_verified_token_in_use_is_never_throttled(self, carelog: CareLog) -> None:
        staff = carelog.staff
        member, token = staff.add("Busy Person", "pharmacist")
        assert staff.authenticate(token, "192.0.2.9") is not None
        for n in range(staff.failures.limits.per_id):
            assert staff.authenticate(f"{member.id}.guess-{n}", "192.0.2.66") is None
        with pytest.raises(SignInThrottledError):
            staff.authenticate(f"{member.id}.guess-again", "192.0.2.66")
        assert staff.authenticate(token, "192.0.2.9") is not None  # already verified

    def test_failures_older_than_the_window_no_longer_count(self, carelog: CareLog) -> None:
        staff = carelog.staff
        member, token = staff.add("Patient Person", "psychiatrist")
        for n in range(staff.failures.limits.per_id):
            assert staff.authenticate(f"{member.id}.guess-{n}", "192.0.2.5") is None
        with pytest.raises(SignInThrottledError) as refused:
            staff.authenticate(token, "192.0.2.5")
        assert 1 <= refused.value.retry_after <= staff.failures.limits.window

        later = time.time() + staff.failures.limits.window + 1
        staff.failures.clock = lambda: later
        assert staff.authenticate(token, "192.0.2.5") is not None


class TestTheIdLimitAcrossAddresses:
    def test_failures_spread_over_addresses_slow_those_addresses_not_a_clean_one(
        self, carelog: CareLog
    ) -> None:
        staff = carelog.staff
        member, token = staff.add("Spread Person", "therapist")
        limits = staff.failures.limits
        for n in range(limits.per_id_total):  # one failure each from many addresses
            staff.failures.record(member.id, f"198.51.100.{n}")
        with pytest.raises(SignInThrottledError) as refused:
            staff.authenticate(token, "198.51.100.0")  # an address that failed for the id
        assert "for this staff id" in refused.value.message
        assert staff.authenticate(token, "192.0.2.200") is not None  # a clean address

    def test_one_failure_short_of_the_total_holds_no_one_back(self, carelog: CareLog) -> None:
        staff = carelog.staff
        member, token = staff.add("Near Person", "therapist")
        for n in range(staff.failures.limits.per_id_total - 1):
            staff.failures.record(member.id, f"198.51.100.{n}")
        assert staff.authenticate(token, "198.51.100.0") is not None


class TestAFailedSignInIsAuditedWhateverTheId:
    def test_an_unknown_and_a_real_id_each_write_one_access_log_entry(
        self, carelog: CareLog, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real, _ = carelog.staff.add("Audited Person", "therapist")
        app = create_app(carelog=carelog)
        client = app.test_client()
        writes: list[dict[str, Any]] = []
        record = carelog.access_log.record

        def counting(**entry: Any) -> int:
            writes.append(entry)
            return record(**entry)

        monkeypatch.setattr(carelog.access_log, "record", counting)
        for claimed in (real.id, str(uuid.uuid4())):
            before = len(writes)
            answer = client.get(
                "/api/v1/patients", headers={"Authorization": f"Bearer {claimed}.wrong"}
            )
            assert answer.status_code == 401
            assert len(writes) - before == 1, claimed
            assert writes[-1]["actor_id"] == claimed
            assert writes[-1]["allowed"] is False


class TestOddTokens:
    def test_a_token_with_nul_or_an_overlong_id_is_refused_never_a_500(
        self, carelog: CareLog
    ) -> None:
        from web import create_app

        client = create_app(carelog=carelog).test_client()
        for token in ("a\x00b.secret", "id.sec\x00ret", "x" * 600 + ".secret", "é.ü"):
            answer = client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"})
            # a NUL in a header is refused by the input guard (400) before authentication
            assert answer.status_code == (400 if "\x00" in token else 401), token


@pytest.mark.store_independent
class TestTheContractDocumentsTheLimit:
    def test_authenticated_endpoints_document_429_with_retry_after(self, carelog: CareLog) -> None:
        from web import create_app

        spec = create_app(carelog=carelog).test_client().get("/openapi.json").get_json()
        plan = spec["paths"]["/api/v1/patients/{pid}/plan"]["get"]["responses"]
        assert "429" in plan
        assert "Retry-After" in plan["429"]["headers"]
