"""A real OpenID Connect provider for the single sign-on tests: panva's ``oidc-provider``
(OpenID Certified) run by Node from tests/oidc/provider.mjs, one per test session.

The fixture owns the provider's signing key (it hands the provider its private JWK set),
so tests can also make tokens the provider would never issue (another issuer, an expired
one, ``alg: none``) signed with the provider's own key: that is what proves each check is
made, rather than a signature failure hiding it.

``ProviderUnderTest`` also drives the provider's sign-in over plain HTTP, as a browser would
(authorization request, the login form, consent granted by the provider, the code
exchange with PKCE) to get real access tokens for the API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.parallel import one_at_a_time

NODE = shutil.which("node")
NPM = shutil.which("npm")
PROVIDER_DIR = Path(__file__).resolve().parent / "oidc"
API_AUDIENCE = "https://carelog.test/api"
OTHER_AUDIENCE = "https://other.test/api"
ACCESS_TOKEN_TTL = 4
"""Seconds the provider's access tokens live (short: deprovisioning tests wait them out)."""
KID = "carelog-test-key-1"
ROLE_MAP = (
    "carelog-psychiatrists=psychiatrist,carelog-therapists=therapist,"
    "carelog-pharmacists=pharmacist,carelog-auditors=auditor,carelog-admins=admin"
)
PRESCRIBER_GROUP = "carelog-prescribers"

requires_node = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="Node.js and npm are needed to run the test OpenID provider (tests/oidc/provider.mjs)",
)


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    name: str


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class ProviderUnderTest:
    """The running provider, its private key and its test-only administration."""

    issuer: str
    key: rsa.RSAPrivateKey
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # loopback only: never through a proxy

    # -- administration --------------------------------------------------------------------
    def add_account(self, groups: list[str], name: str | None = None) -> Account:
        login = f"user-{secrets.token_hex(4)}"
        account = Account(login, secrets.token_urlsafe(12), name or f"Dr {login}")
        r = self.http.post(
            f"{self.issuer}/test-admin/accounts",
            json={
                "id": login,
                "password": account.password,
                "name": account.name,
                "email": f"{login}@hospital.test",
                "groups": groups,
            },
            timeout=10,
        )
        assert r.status_code == 201, r.text
        return account

    def disable(self, account: Account) -> None:
        """Deprovision the account at the provider."""
        r = self.http.post(f"{self.issuer}/test-admin/accounts/{account.login}/disable", timeout=10)
        assert r.status_code == 204, r.text

    def register_client(self, base_url: str) -> Client:
        """A confidential web client for one CareLog (dynamic registration, RFC 7591)."""
        redirect_uri = f"{base_url}/login/oidc/callback"
        r = self.http.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [f"{base_url}/login"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=10,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return Client(body["client_id"], body["client_secret"], redirect_uri)

    def settings(self, client: Client | None = None) -> dict[str, Any]:
        """CareLog's configuration for this provider (``Config.with_(**settings)``)."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": client.client_id if client else None,
            "oidc_client_secret": client.client_secret if client else None,
            "oidc_audience": API_AUDIENCE,
            "oidc_provider_name": "Test Hospital",
            "oidc_role_map": ROLE_MAP,
            "oidc_prescriber_group": PRESCRIBER_GROUP,
            "oidc_leeway": 0.0,
            "oidc_scopes": "openid profile email groups offline_access",
        }

    # -- tokens ----------------------------------------------------------------------------
    def forge(
        self,
        claims: dict[str, Any],
        algorithm: str = "RS256",
        key: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A token signed with the provider's own key (or ``key``), with the given claims."""
        return jwt.encode(
            claims,
            key if key is not None else self.key,
            algorithm=algorithm,
            headers={"kid": KID, "typ": "at+jwt", **(headers or {})},
        )

    def claims(self, subject: str, groups: list[str], **changes: Any) -> dict[str, Any]:
        """Claims as the provider puts them in an API access token."""
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": API_AUDIENCE,
            "sub": subject,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_hex(8),
            "client_id": "some-client",
            "scope": "carelog",
            "groups": groups,
            "name": f"Dr {subject}",
            **changes,
        }

    def sign_in(
        self, client: Client, account: Account, resource: str | None = API_AUDIENCE
    ) -> dict[str, Any]:
        """The provider's token response after ``account`` signs in (code flow with PKCE,
        driven over HTTP as a browser would); with ``resource``, the access token is a JWT
        for that API."""
        browser = requests.Session()
        browser.trust_env = False
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        params = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": "openid profile groups carelog",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if resource:
            params["resource"] = resource
        r = browser.get(f"{self.issuer}/auth", params=params, allow_redirects=False, timeout=10)
        code = None
        for _ in range(10):
            if r.is_redirect:
                location = urljoin(r.url, r.headers["Location"])
                if location.startswith(client.redirect_uri):
                    query = parse_qs(urlsplit(location).query)
                    assert "code" in query, location
                    code = query["code"][0]
                    break
                r = browser.get(location, allow_redirects=False, timeout=10)
            elif r.status_code == 200 and 'id="login"' in r.text:
                action = r.text.split('action="', 1)[1].split('"', 1)[0]
                r = browser.post(
                    urljoin(r.url, action),
                    data={"login": account.login, "password": account.password},
                    allow_redirects=False,
                    timeout=10,
                )
            else:
                raise AssertionError(f"unexpected provider page {r.status_code}: {r.text[:300]}")
        assert code is not None, "the provider never redirected back with a code"
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
        }
        if resource:
            form["resource"] = resource
        token = self.http.post(
            f"{self.issuer}/token",
            data=form,
            auth=(client.client_id, client.client_secret),
            timeout=10,
        )
        assert token.status_code == 200, token.text
        answer: dict[str, Any] = token.json()
        return answer


def _ensure_installed() -> None:
    """``npm install`` in tests/oidc when its node_modules is missing (as
    scripts/test-setup.sh does for ``make test``)."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    assert NPM is not None
    command = [NPM, "ci" if (PROVIDER_DIR / "package-lock.json").exists() else "install"]
    subprocess.run(
        [*command, "--no-audit", "--no-fund"],
        cwd=PROVIDER_DIR,
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[ProviderUnderTest]:
    """The provider on a free loopback port for the whole test session."""
    if NODE is None or NPM is None:
        pytest.skip("Node.js and npm are needed to run the test OpenID provider")
    with one_at_a_time("oidc-npm-install"):  # parallel workers: one npm ci at a time
        _ensure_installed()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    jwk.pop("key_ops", None)  # ["sign"] would keep the provider from verifying with it
    jwk.update(kid=KID, use="sig", alg="RS256")
    env = {
        **os.environ,
        "PROVIDER_JWKS": json.dumps({"keys": [jwk]}),
        "ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL),
        "CARELOG_API": API_AUDIENCE,
    }
    process = subprocess.Popen(
        [NODE, "provider.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        issuer = _await_listening(process)
        yield ProviderUnderTest(issuer, key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_listening(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("listening "):
                return line.split()[1]
            if not line and process.poll() is not None:
                break
    raise RuntimeError(f"the test OpenID provider did not start (exit {process.poll()})")
