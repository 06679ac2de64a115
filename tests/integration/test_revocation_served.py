"""Revocation across processes, through real ``carelog serve`` processes sharing one store:
an account deactivated, a token rotated or a page session signed out in one process is
refused by every server on its very next request, and an open live feed closes.

Every server has verified the token (and so cached the verification) before the
revocation: that cache is what used to keep a revoked clinician working for five minutes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from services.bootstrap import CareLog
from services.config import Config
from tests.integration.served import PageSession, Served, environment, run_cli, served

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not


@pytest.fixture
def env(store: str, tmp_path: Path) -> dict[str, str]:
    return environment(store, tmp_path)


def add_user(env: dict[str, str], name: str, role: str) -> dict[str, Any]:
    return run_cli(env, "users", "add", name, "--role", role)


def register(server: Served, psychiatrist: str, therapist: dict[str, Any]) -> tuple[str, int]:
    """A patient with the therapist on the team; its id and the log position so far."""
    r = server.post(
        "/api/v1/patients",
        psychiatrist,
        {"external_id": "MRN-REVOKE", "name": "Revoke Patient", "birth_date": "1980-02-03"},
    )
    assert r.status_code == 201, r.text
    pid: str = r.json()["patient_id"]
    r = server.post(
        f"/api/v1/patients/{pid}/care-team",
        psychiatrist,
        {"clinician_id": therapist["id"], "role": "therapist"},
    )
    assert r.status_code == 201, r.text
    return pid, int(r.json()["position"])


def follow_up(server: Served, token: str, pid: str) -> requests.Response:
    return server.post(
        f"/api/v1/patients/{pid}/follow-ups",
        token,
        {"due_at": "2031-01-01T09:00:00+00:00", "purpose": "check in"},
    )


def wait_until_listed(server: Served, token: str, pid: str) -> None:
    """The views (which the feed's care-team filter reads) have caught up with the team."""
    for _ in range(200):
        listed = server.get("/api/v1/patients", token).json()["patients"]
        if any(p["patient_id"] == pid for p in listed):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the patient never appeared in the caller's list")


class Stream:
    """A live feed connection read to its end (or until the read times out)."""

    def __init__(
        self, server: Served, after: int, token: str | None, cookie: str | None = None
    ) -> None:
        headers = {"Accept": "text/event-stream"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            headers["Cookie"] = f"__Host-carelog={cookie}"
        self.response = requests.get(
            f"{server.url}/api/v1/feed/stream?after={after}",
            headers=headers,
            stream=True,
            timeout=(5, 12),  # a stream that stays open past 12 s of silence fails the test
        )
        assert self.response.status_code == 200, self.response.text
        self.lines = self.response.iter_lines(decode_unicode=True)
        assert next(self.lines).startswith("retry:")  # the server has started the stream

    def rest(self) -> list[str]:
        """Every line until the server closes the stream."""
        try:
            return [line for line in self.lines if line]
        finally:
            self.response.close()


@pytest.fixture
def staff(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "psychiatrist": add_user(env, "Dr Revoke", "psychiatrist"),
        "therapist": add_user(env, "Tess Revoke", "therapist"),
    }


class TestDeactivationAcrossProcesses:
    def test_every_server_refuses_a_deactivated_clinician_on_the_next_request(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        therapist = staff["therapist"]
        with served(env, tmp_path, count=2) as servers:
            pid, _ = register(servers[0], staff["psychiatrist"]["token"], therapist)
            for server in servers:  # each process verifies (and caches) the token
                assert server.get(f"/api/v1/patients/{pid}/plan", therapist["token"]).ok
            assert follow_up(servers[1], therapist["token"], pid).status_code == 201

            run_cli(env, "users", "deactivate", therapist["id"])

            for server in servers:
                read = server.get(f"/api/v1/patients/{pid}/plan", therapist["token"])
                assert read.status_code == 401
                assert follow_up(server, therapist["token"], pid).status_code == 401

    def test_a_page_session_on_another_server_ends_with_the_account(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        therapist = staff["therapist"]
        with served(env, tmp_path) as (server,):
            page = PageSession(server)
            assert page.sign_in(therapist["token"]).status_code == 303
            assert page.get("/dashboard").status_code == 200

            run_cli(env, "users", "deactivate", therapist["id"])

            after = page.get("/dashboard")
            assert after.status_code == 303
            assert after.headers["Location"].startswith("/login")


class TestTokenRotationAcrossProcesses:
    def test_the_old_token_is_refused_at_once_and_the_new_one_works(
        self,
        env: dict[str, str],
        tmp_path: Path,
        staff: dict[str, dict[str, Any]],
        config: Config,
    ) -> None:
        therapist = staff["therapist"]
        with served(env, tmp_path) as (server,):
            assert server.get("/api/v1/patients", therapist["token"]).ok
            page = PageSession(server)
            assert page.sign_in(therapist["token"]).status_code == 303

            other = CareLog(config.with_(checkpoint_dir=env["CARELOG_CHECKPOINT_DIR"]))
            try:  # this test's process rotates, as `carelog demo` does
                new_token = other.staff.rotate_token(therapist["id"])
            finally:
                other.close()

            assert server.get("/api/v1/patients", therapist["token"]).status_code == 401
            assert server.get("/api/v1/patients", new_token).status_code == 200
            assert page.get("/dashboard").status_code == 303  # the old sign-in ended too


class TestSignOut:
    def test_a_copied_cookie_stops_working_after_sign_out(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        with served(env, tmp_path) as (server,):
            page = PageSession(server)
            assert page.sign_in(staff["therapist"]["token"]).status_code == 303
            assert page.get("/dashboard").status_code == 200
            copied = PageSession(server)
            copied.cookie = page.cookie

            assert page.post("/logout", {}).status_code == 303

            after = copied.get("/dashboard")
            assert after.status_code == 303
            assert after.headers["Location"].startswith("/login")
            stream = requests.get(
                f"{server.url}/api/v1/feed/stream",
                headers={"Cookie": f"__Host-carelog={copied.cookie}"},
                stream=True,
                timeout=(5, 12),
            )
            assert stream.status_code == 401
            stream.close()


@contextmanager
def listed_patient(
    env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
) -> Iterator[tuple[Served, str, int]]:
    """One server, and a patient with the therapist on the team whom the therapist's
    views already list: the server, the patient and the log position so far."""
    with served(env, tmp_path) as (server,):
        pid, position = register(server, staff["psychiatrist"]["token"], staff["therapist"])
        wait_until_listed(server, staff["therapist"]["token"], pid)
        yield server, pid, position


class TestLiveFeedRevocation:
    def test_an_open_stream_closes_on_deactivation_and_delivers_nothing_more(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        therapist, psychiatrist = staff["therapist"], staff["psychiatrist"]["token"]
        with listed_patient(env, tmp_path, staff) as (server, pid, position):
            stream = Stream(server, position, therapist["token"])

            run_cli(env, "users", "deactivate", therapist["id"])
            assert follow_up(server, psychiatrist, pid).status_code == 201

            assert not [line for line in stream.rest() if line.startswith("data:")]

    def test_a_signed_out_page_stream_closes(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        therapist, psychiatrist = staff["therapist"], staff["psychiatrist"]["token"]
        with listed_patient(env, tmp_path, staff) as (server, pid, position):
            page = PageSession(server)
            assert page.sign_in(therapist["token"]).status_code == 303
            stream = Stream(server, position, None, cookie=page.cookie)

            assert page.post("/logout", {}).status_code == 303
            assert follow_up(server, psychiatrist, pid).status_code == 201

            assert not [line for line in stream.rest() if line.startswith("data:")]

    def test_a_clinician_removed_from_the_team_sees_the_removal_and_nothing_after(
        self, env: dict[str, str], tmp_path: Path, staff: dict[str, dict[str, Any]]
    ) -> None:
        therapist, psychiatrist = staff["therapist"], staff["psychiatrist"]["token"]
        with listed_patient(env, tmp_path, staff) as (server, pid, position):
            stream = Stream(server, position, therapist["token"])

            removal = server.post(
                f"/api/v1/patients/{pid}/care-team/{therapist['id']}/removal",
                psychiatrist,
                {"reason": "left the service"},
            )
            assert removal.status_code == 201, removal.text
            assert follow_up(server, psychiatrist, pid).status_code == 201

            delivered = [
                json.loads(line[len("data:") :])["type"]
                for line in stream.rest()
                if line.startswith("data:")
            ]
            assert delivered in ([], ["carelog.care-team.member-removed.v1"])
