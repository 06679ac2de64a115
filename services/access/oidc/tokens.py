"""Checking a JWT from the provider: an API access token or a sign-in's ID token.

What is checked, and why each matters:
- the algorithm is one of the public-key algorithms below, named in the token's header and
  matching the key's type. ``none`` and the HMAC family (HS256 ...) are refused outright:
  with HS256 an attacker would sign with the provider's *public* key as the secret.
- the key is one the provider publishes (by ``kid``; services/access/oidc/provider.py).
- ``iss`` is the configured issuer, ``aud`` contains the expected audience (the API's for
  access tokens, CareLog's client id for ID tokens), ``exp`` is in the future and ``nbf`` /
  ``iat`` not in it, each within a small leeway for clock skew; ``sub`` is present.
- an ID token is never accepted as an access token: a token whose header says ``at+jwt``
  (RFC 9068) is an access token; one without that type is refused if it carries an ID
  token's own claims (``nonce``, ``at_hash``, ``c_hash``), or, where the API's audience
  is CareLog's own client id (as an ID token's is), if it has none of an access token's
  (``scope``, ``scp``, ``client_id``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt

from services.access.oidc.provider import Provider, ProviderError

ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Public-key signatures only: never ``none``, never HS* (a shared secret)."""
_ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")
_ACCESS_TOKEN_CLAIMS = ("scope", "scp", "client_id")


class TokenError(Exception):
    """The token is not one CareLog accepts; the message says why (for logs, not users)."""


def looks_like_jwt(token: str) -> bool:
    """A compact JWS (``header.payload.signature`` with a JSON header naming ``alg``), as
    opposed to a CareLog staff token (``<staff id>.<secret>``: one dot, no JSON)."""
    if token.count(".") != 2 or len(token) > 16_384:
        return False
    return isinstance(_header(token), dict)


def _header(token: str) -> dict[str, Any] | None:
    segment = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) and "alg" in decoded else None


def verify(
    provider: Provider,
    token: str,
    audience: str,
    leeway: float,
    access_token: bool,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The token's claims, once every check above has passed; else ``TokenError``."""
    header = _header(token)
    if header is None:
        raise TokenError("not a JWT")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenError(f"algorithm {algorithm!r} is not accepted")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("malformed key id")
    try:
        key = provider.key(kid, str(algorithm))
    except ProviderError as error:
        raise TokenError(f"the provider's keys could not be read: {error}") from error
    if key is None:
        raise TokenError(f"no key {kid!r} for {algorithm} at the provider")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[str(algorithm)],
            audience=audience,
            issuer=provider.issuer,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud", "sub"], "strict_aud": False},
        )
    except jwt.InvalidTokenError as error:
        raise TokenError(str(error)) from error
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenError("no subject")
    if access_token:
        typ = str(header.get("typ", "")).lower()
        if typ not in ("at+jwt", "application/at+jwt"):
            if any(name in claims for name in _ID_TOKEN_CLAIMS):
                raise TokenError("an ID token is not an access token")
            if (
                client_id is not None
                and audience == client_id
                and not any(name in claims for name in _ACCESS_TOKEN_CLAIMS)
            ):
                # The API's audience is CareLog's client id, as ID tokens' is: without
                # the access-token type, only an access token's own claims tell them apart.
                raise TokenError("a token for this client without access-token claims")
    return claims


def check_client(claims: dict[str, Any], allowed: frozenset[str]) -> None:
    """An access token is accepted only from CareLog's own client(s): any other app at the
    same provider that staff sign in to could otherwise request a token for CareLog's
    audience and act on CareLog as them. ``azp`` (the authorized party) or RFC 9068's
    ``client_id`` names the client the token was issued to."""
    if not allowed:
        return
    client = claims.get("azp") or claims.get("client_id")
    if not isinstance(client, str) or client not in allowed:
        raise TokenError(f"a token issued to client {client!r}, which is not allowed")
