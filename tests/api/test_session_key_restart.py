"""A restart of ``carelog serve`` without ``CARELOG_SECRET_KEY`` (re-running ``make run``)
keeps the pages signed in: the session-cookie key is made once and kept beside the store,
private (0600), and a key file anyone else could read is not trusted."""

from __future__ import annotations

import os
import re
import stat

from flask import Flask
from flask.testing import FlaskClient

from services.access import session_key
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from web import create_app

SITE = "https://localhost"
"""The session cookie is ``__Host-``/Secure: the test client must speak HTTPS to keep it."""


def start(carelog: CareLog, key: str) -> Flask:
    """The app as a fresh ``carelog serve`` builds it over the same store, with ``key``."""
    app = create_app(carelog=carelog)
    app.config["SECRET_KEY"] = key
    app.testing = True
    return app


def sign_in(client: FlaskClient, token: str) -> None:
    page = client.get("/login", base_url=SITE).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    answer = client.post(
        "/login", data={"token": token, "csrf_token": found.group(1)}, base_url=SITE
    )
    assert answer.status_code in (302, 303), answer.status_code


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie("__Host-carelog", domain="localhost")
    assert cookie is not None
    return cookie.value


def dashboard_after_restart(carelog: CareLog, key: str, cookie: str) -> int:
    client = start(carelog, key).test_client()
    client.set_cookie("__Host-carelog", cookie, domain="localhost", secure=True)
    status: int = client.get("/dashboard", base_url=SITE).status_code
    return status


class TestSessionKey:
    def test_the_key_is_kept_beside_the_store_private_and_the_same_each_start(
        self, config: Config
    ) -> None:
        unset = config.with_(secret_key=None)
        first = session_key.load_or_create(unset)
        path = session_key.key_path(unset)
        assert path.name.endswith(".session-key")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert session_key.load_or_create(unset) == first

    def test_a_key_file_others_can_read_is_replaced(self, config: Config) -> None:
        unset = config.with_(secret_key=None)
        first = session_key.load_or_create(unset)
        path = session_key.key_path(unset)
        os.chmod(path, 0o644)
        second = session_key.load_or_create(unset)
        assert second != first
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


class TestRestart:
    def test_a_page_session_outlives_a_restart_with_the_kept_key(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        key = session_key.load_or_create(config.with_(secret_key=None))
        client = start(carelog, key).test_client()
        sign_in(client, team.tokens["pharmacist"])
        cookie = cookie_of(client)
        assert client.get("/dashboard", base_url=SITE).status_code == 200

        again = session_key.load_or_create(config.with_(secret_key=None))
        assert dashboard_after_restart(carelog, again, cookie) == 200

    def test_a_new_key_would_have_signed_the_user_out(self, carelog: CareLog, team: Team) -> None:
        client = start(carelog, "a" * 64).test_client()
        sign_in(client, team.tokens["pharmacist"])
        cookie = cookie_of(client)
        assert dashboard_after_restart(carelog, "b" * 64, cookie) in (302, 303)
