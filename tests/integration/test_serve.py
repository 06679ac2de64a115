"""``carelog serve`` as an operator starts it: gunicorn by default, a body over the limit
refused unread (413, whether sized or streamed), no server version in ``Server``, no
patient data cached or sniffed, each request logged once and no token ever logged, and
the store's files its owner's alone."""

from __future__ import annotations

import http.client
import json
import os
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_process import carelog_process

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not

LIMIT = 64 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    port: int
    token: str
    log: Path
    store: str
    folder: Path
    process: subprocess.Popen[bytes]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def api(self, method: str, path: str, body: object = None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        data = None if body is None else json.dumps(body).encode()
        return self.request(method, path, data, headers)

    def stop(self) -> str:
        """Stop the server; what it logged."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        return self.log.read_text(errors="replace")


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return carelog_process(*args, env=env, check=True, preexec_fn=lambda: os.umask(0o022))


@pytest.fixture
def served(store: str, tmp_path: Path) -> Iterator[Served]:
    env = {
        **os.environ,
        "CARELOG_DATABASE_URL": store,
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "data" / "checkpoints"),
        "CARELOG_MAX_REQUEST_BYTES": str(LIMIT),
        "CARELOG_CHECKPOINT_INTERVAL": "0",
    }
    env.pop("CARELOG_SECRET_KEY", None)
    token = json.loads(cli("users", "add", "Dr Served", "--role", "psychiatrist", env=env).stdout)[
        "token"
    ]
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("carelog")), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: os.umask(0o022),  # an operator's usual umask
        )
    served = Served(port, token, log, store, tmp_path, process)
    try:  # stopped even if it never answers: no server left holding the store's connections
        deadline = time.monotonic() + 120  # a loaded machine (parallel workers) boots slowly
        while True:
            try:
                if served.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield served
    finally:
        served.stop()


class TestProductionServer:
    def test_it_runs_gunicorn_and_says_where(self, served: Served) -> None:
        served.request("GET", "/healthz")
        logged = served.stop()
        assert f"CareLog API on http://127.0.0.1:{served.port}" in logged
        assert "gunicorn" in logged
        assert "development server" not in logged

    def test_the_server_header_names_no_version(self, served: Served) -> None:
        for path in ("/healthz", "/docs", "/api/v1/patients", "/login"):
            _, headers, _ = served.request("GET", path)
            server = headers.get("Server", "")
            assert "Werkzeug" not in server, server
            assert "Python" not in server, server
            assert not any(c.isdigit() for c in server), server

    def test_each_request_is_logged_once_and_no_token_ever(self, served: Served) -> None:
        marker = f"/api/v1/patients/{uuid.uuid4()}/plan"
        served.api("GET", marker)
        status, _, body = served.request(
            "GET", f"/api/v1/patients?access_token={served.token}&token={served.token}"
        )
        assert status == 400, body
        assert "Authorization" in json.loads(body)["errors"]["access_token"][0]
        logged = served.stop()
        assert logged.count(marker) == 1, logged
        assert served.token not in logged
        assert served.token.split(".")[-1] not in logged


class TestRequestSize:
    def test_a_body_over_the_limit_is_413_problem_json(self, served: Served) -> None:
        body = json.dumps({"external_id": "X", "name": "x" * LIMIT, "birth_date": "1980-01-01"})
        status, headers, answer = served.api("POST", "/api/v1/patients", json.loads(body))
        assert status == 413, answer
        assert headers["Content-Type"].startswith("application/problem+json")
        assert json.loads(answer)["status"] == 413

    def test_a_streamed_body_over_the_limit_is_refused_too(self, served: Served) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        chunk = b"[" * 1024
        try:
            conn.putrequest("POST", "/api/v1/patients")
            conn.putheader("Authorization", f"Bearer {served.token}")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            try:
                for _ in range(2 * LIMIT // len(chunk)):
                    conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                conn.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server answered and closed before the body was all sent
            response = conn.getresponse()
            assert response.status == 413, response.read()
        finally:
            conn.close()
        assert served.api("GET", "/api/v1/patients")[0] == 200  # still serving

    def test_a_body_within_the_limit_is_served(self, served: Served) -> None:
        status, _, answer = served.api(
            "POST",
            "/api/v1/patients",
            {"external_id": "MRN-S", "name": "Served Patient", "birth_date": "1980-01-01"},
        )
        assert status == 201, answer


class TestHeaders:
    def test_api_answers_are_never_cached_or_sniffed(self, served: Served) -> None:
        _, _, answer = served.api(
            "POST",
            "/api/v1/patients",
            {"external_id": "MRN-H", "name": "Header Patient", "birth_date": "1980-01-01"},
        )
        pid = json.loads(answer)["patient_id"]
        for path in (f"/api/v1/patients/{pid}/plan", "/api/v1/patients", "/api/v1/nowhere"):
            _, headers, _ = served.api("GET", path)
            assert headers["Cache-Control"] == "no-store", path
            assert headers["X-Content-Type-Options"] == "nosniff", path
        _, headers, _ = served.api("GET", f"/api/v1/patients/{pid}/plan")
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]

    def test_the_docs_may_not_be_framed_and_run_only_their_own_scripts(
        self, served: Served
    ) -> None:
        status, headers, page = served.request("GET", "/docs")
        assert status == 200
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
        assert headers["X-Frame-Options"] == "DENY"
        assert b"/docs/static/swagger-ui-bundle.js" in page


class TestFileModes:
    def test_the_store_and_checkpoints_are_the_owners_alone(self, served: Served) -> None:
        served.api(
            "POST",
            "/api/v1/patients",
            {"external_id": "MRN-F", "name": "File Patient", "birth_date": "1980-01-01"},
        )
        running = [p for p in served.folder.glob("carelog*") if p.exists()]
        if served.store.startswith("sqlite"):  # the -wal and -shm exist while it runs
            assert {p.name for p in running} >= {"carelog.db-wal", "carelog.db-shm"}
        for path in running:
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
        served.stop()
        carelog_process(
            "checkpoint",
            env={
                **os.environ,
                "CARELOG_DATABASE_URL": served.store,
                "CARELOG_CHECKPOINT_DIR": str(served.folder / "data" / "checkpoints"),
            },
            preexec_fn=lambda: os.umask(0o022),
        )
        found = [
            p
            for p in (served.folder / "data").rglob("*")
            if p.name != "serve.log" and not p.name.endswith(".lock")
        ]
        if served.store.startswith("sqlite"):
            found += [p for p in served.folder.glob("carelog*") if p.exists()]
            assert any(p.name == "carelog.db" for p in found)
        assert found
        for path in found:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
