"""Real ``carelog serve`` processes and ``carelog`` CLI runs over one shared store, for tests
about what one process does to another (revocation, sign-in limits).

``Served`` starts the server as an operator would, waits for ``/healthz``, and stops it at
the end; ``run_cli`` runs any other ``carelog`` command against the same environment.
``PageSession`` signs in through the real sign-in form; the session cookie is ``Secure``,
so it is sent by hand over the test's plain-HTTP loopback connection.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

CARELOG = str(Path(sys.executable).with_name("carelog"))
COOKIE = "__Host-carelog"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def environment(store: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CARELOG_DATABASE_URL": store,
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "CARELOG_SECRET_KEY": "served-test-secret",
        "CARELOG_GROUP_COMMIT_MS": "0",
        **extra,
    }


def run_cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run ``carelog ARGS`` to completion; its one JSON line, parsed."""
    done = subprocess.run(
        [CARELOG, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Served:
    """One ``carelog serve`` process on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [CARELOG, "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening, or booting
                pass
            time.sleep(0.1)
        raise AssertionError(f"carelog serve did not start: {log.read_text()}")

    def get(self, path: str, token: str, **kw: Any) -> requests.Response:
        return requests.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
        )

    def post(self, path: str, token: str, body: Any, **kw: Any) -> requests.Response:
        return requests.post(
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kw,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self._log.close()


@contextmanager
def served(env: dict[str, str], tmp_path: Path, count: int = 1) -> Iterator[list[Served]]:
    servers: list[Served] = []
    try:
        for n in range(count):
            servers.append(Served(env, tmp_path / f"serve-{n}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


class PageSession:
    """A browser's page session, kept by hand: the cookie and the current CSRF token."""

    def __init__(self, server: Served) -> None:
        self.server = server
        self.cookie = ""
        self.csrf = ""

    def _take(self, response: requests.Response) -> requests.Response:
        cookie = response.cookies.get(COOKIE)
        if cookie is not None:
            self.cookie = cookie
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, path: str) -> requests.Response:
        return self._take(
            requests.get(
                f"{self.server.url}{path}",
                headers={"Cookie": f"{COOKIE}={self.cookie}"},
                allow_redirects=False,
                timeout=30,
            )
        )

    def post(self, path: str, form: dict[str, str]) -> requests.Response:
        return self._take(
            requests.post(
                f"{self.server.url}{path}",
                data={"csrf_token": self.csrf, **form},
                headers={"Cookie": f"{COOKIE}={self.cookie}"},
                allow_redirects=False,
                timeout=30,
            )
        )

    def sign_in(self, token: str) -> requests.Response:
        """Sign in through the form, then open the landing page (for its CSRF token)."""
        self.get("/login")
        response = self.post("/login", {"token": token})
        if response.status_code == 303:
            self.get(response.headers["Location"])
        return response
