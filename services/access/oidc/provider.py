"""The OpenID Connect provider as CareLog sees it: its metadata and its signing keys.

The metadata comes from ``<issuer>/.well-known/openid-configuration`` and must name the
same issuer (OpenID Connect Discovery 1.0, section 4.3), so a misconfigured or spoofed
discovery document cannot move CareLog to another issuer. The signing keys (JWKS) are
cached; a token signed with a key id the cache does not hold makes CareLog fetch the set
again (the provider has rotated its keys), but at most once every ``REFRESH_INTERVAL``
seconds, so a stream of tokens with made-up key ids cannot turn CareLog into a flood of
requests to the provider.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import HTTPError, URLError

from jwt import PyJWK
from jwt.exceptions import PyJWTError

TIMEOUT = 10.0
"""Seconds CareLog waits for the provider on any one call."""
METADATA_SECONDS = 3600.0
"""How long the discovery document is trusted before it is read again."""
REFRESH_INTERVAL = 30.0
"""Unknown key ids refresh the key set at most this often (seconds)."""


class ProviderError(Exception):
    """The provider could not be reached, or answered something unusable."""


class ProviderRefusal(ProviderError):
    """The provider answered with an OAuth error (``invalid_grant``, ``invalid_token`` ...):
    it says no, as opposed to being unreachable."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        self.status = status
        self.error = error
        super().__init__(f"{error}: {description}" if description else error)


Fetch = Callable[[urllib.request.Request], tuple[int, bytes]]


def fetch(request: urllib.request.Request) -> tuple[int, bytes]:
    """One HTTP call: status and body (errors answered by the provider included)."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return int(response.status), bytes(response.read())
    except HTTPError as error:
        return int(error.code), bytes(error.read() or b"")
    except (URLError, OSError, ValueError) as error:
        raise ProviderError(f"The sign-in provider could not be reached: {error}") from error


class Provider:
    """One issuer's metadata, keys and endpoints."""

    def __init__(self, issuer: str, http: Fetch = fetch) -> None:
        self.issuer = issuer  # exactly as tokens carry it (some issuers end in "/")
        self._http = http
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, dict[str, Any]] = {}
        self._keys_at = float("-inf")

    # -- calls -----------------------------------------------------------------------------
    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", **(headers or {})}
        )
        return self._answer(*self._http(request))

    def post_form(
        self, url: str, form: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        body = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                **(headers or {}),
            },
        )
        return self._answer(*self._http(request))

    @staticmethod
    def _answer(status: int, body: bytes) -> dict[str, Any]:
        try:
            payload = json.loads(body or b"{}")  # an empty 200 (revocation) is fine
        except ValueError:
            payload = None
        found = payload if isinstance(payload, dict) else {}
        if status >= 400:
            error = found.get("error")
            if isinstance(error, str) and 400 <= status < 500:
                raise ProviderRefusal(status, error, str(found.get("error_description", "")))
            if status in (400, 401, 403):  # a refusal, even without an OAuth error body
                raise ProviderRefusal(status, f"http_{status}")
            raise ProviderError(f"The sign-in provider answered {status}.")
        if not isinstance(payload, dict):
            raise ProviderError(f"The sign-in provider answered {status} without a JSON object.")
        return payload

    # -- metadata --------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if (
                self._metadata is not None
                and time.monotonic() - self._metadata_at < METADATA_SECONDS
            ):
                return self._metadata
        found = self.get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if found.get("issuer") != self.issuer:
            raise ProviderError(
                f"The provider's discovery document names issuer {found.get('issuer')!r},"
                f" not the configured {self.issuer!r}."
            )
        with self._lock:
            self._metadata, self._metadata_at = found, time.monotonic()
        return found

    def endpoint(self, name: str) -> str | None:
        value = self.metadata().get(name)
        return value if isinstance(value, str) and value else None

    def require_endpoint(self, name: str) -> str:
        value = self.endpoint(name)
        if value is None:
            raise ProviderError(f"The provider advertises no {name}.")
        return value

    # -- keys ------------------------------------------------------------------------------
    def key(self, kid: str | None, algorithm: str) -> PyJWK | None:
        """The provider's signing key for a token header, or None if it has none such.

        An unknown ``kid`` refreshes the cached set, rate-limited; a token without ``kid``
        is matched only when the set holds exactly one signing key."""
        jwk = self._find(kid)
        if jwk is None and self._may_refresh():
            self._refresh()
            jwk = self._find(kid)
        if jwk is None or jwk.get("alg", algorithm) != algorithm:
            return None  # no such key, or one the provider published for another algorithm
        try:
            return PyJWK(jwk, algorithm=algorithm)
        except PyJWTError:
            return None  # the key cannot do this algorithm (an RSA key for ES256, say)

    def _find(self, kid: str | None) -> dict[str, Any] | None:
        with self._lock:
            if kid is not None:
                return self._keys.get(kid)
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    def _may_refresh(self) -> bool:
        with self._lock:
            if time.monotonic() - self._keys_at < REFRESH_INTERVAL:
                return False
            self._keys_at = time.monotonic()  # claimed now: concurrent misses don't all fetch
            return True

    def _refresh(self) -> None:
        found = self.get_json(self.require_endpoint("jwks_uri"))
        keys: dict[str, dict[str, Any]] = {}
        for index, jwk in enumerate(found.get("keys") or []):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            keys[str(jwk.get("kid", f"#{index}"))] = jwk
        with self._lock:
            self._keys = keys
