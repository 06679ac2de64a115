"""Bearer-token authentication on every endpoint but health checks and the API docs.

A bad token that names a known staff member is recorded in the access log as a denied
attempt (someone is trying that account); an unknown one is only logged. Too many failed
tokens for one id or from one address answer 429 with ``Retry-After``
(services/access/sign_in_limits.py).

Every request asks the staff registry again (a cached verification still reads the
account's row), so a deactivated account or a rotated token is refused on the next request
in every process. A bearer token that is a JWT is an access token from the single sign-on
provider (services/access/oidc): checked against the provider's keys, issuer, audience and
expiry on every request. ``g.still_signed_in`` lets a long-running response (the live feed) ask
the same question again later.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, request

from services.access.oidc import AccessDenied, NotSignedIn, SingleSignOn, TokenError, looks_like_jwt
from services.access.sign_in_limits import SignInThrottledError
from services.access.staff import StaffRegistry
from web.context import carelog, log_access, request_info
from web.errors import problem

log = logging.getLogger(__name__)

PUBLIC_PREFIXES = (
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/static/",
    "/login",
    "/favicon",
)


def is_public(path: str) -> bool:
    return path == "/" or path.startswith(PUBLIC_PREFIXES)


def init_app(app: Flask) -> None:
    @app.before_request
    def authenticate() -> Any:
        if is_public(request.path) or request.method == "OPTIONS":
            return None
        if getattr(g, "actor", None) is not None:  # signed in by the pages' session
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthenticated("Send 'Authorization: Bearer <token>'.")
        token = token.strip()
        if looks_like_jwt(token):  # an access token from the sign-in provider
            return _provider_token(token)
        staff = carelog().staff
        try:
            member = staff.authenticate(token, request.remote_addr or "unknown")
        except SignInThrottledError as exc:
            return throttled(exc)
        if member is None:
            record_bad_token(token, "authenticate")
            return _unauthenticated("The token is not valid.")
        g.actor = member.actor
        g.still_signed_in = lambda: _still_valid(staff, token)
        return None


def record_bad_token(token: str, what: str) -> None:
    """Audit a failed sign-in: one access-log entry whether or not the claimed id is a real
    staff member's (the unknown id, no role), so a failure costs the same either way and
    its timing does not tell a guesser which ids exist (red-team F11)."""
    instance = carelog()
    if getattr(instance, "access_log", None) is None:
        return
    claimed = instance.staff.claimed_id(token) if token else None
    known = instance.staff.get(claimed) if claimed else None
    log_access(
        claimed,
        str(known.role) if known is not None else None,
        None,
        what,
        request_info(),
        allowed=False,
        reason="bad or revoked token" if known is not None else "bad token (no such staff id)",
    )


def _provider_token(token: str) -> Any:
    """A JWT access token from the single sign-on provider (services/access/oidc): 401 unless it
    checks out, 403 when the provider's user has no CareLog role."""
    sso = carelog().sso
    if sso is None:
        return _unauthenticated("The token is not valid (single sign-on is not configured).")
    try:
        member = sso.bearer(token)
    except TokenError as error:
        log.info("bearer JWT refused: %s", error)
        return _unauthenticated("The token is not valid.")
    except NotSignedIn as error:
        record_denied_sign_in(error.staff_id, "authenticate", "deactivated in CareLog")
        return _unauthenticated(str(error))
    except AccessDenied as error:
        record_denied_sign_in(error.staff_id, "authenticate", "no CareLog role at the provider")
        return problem(403, str(error))
    g.actor = member.actor
    g.still_signed_in = lambda: _provider_token_valid(sso, token)
    return None


def record_denied_sign_in(staff_id: str | None, what: str, reason: str) -> None:
    """A refused sign-in of a known staff member, in the access log (someone is trying
    that account); an unknown one is only logged."""
    instance = carelog()
    known = instance.staff.get(staff_id) if staff_id else None
    if known is None:
        log.info("%s refused for an unknown identity: %s", what, reason)
        return
    log_access(known.id, str(known.role), None, what, request_info(), allowed=False, reason=reason)


def _provider_token_valid(sso: SingleSignOn, token: str) -> bool:
    try:
        sso.bearer(token)
    except (TokenError, NotSignedIn, AccessDenied):
        return False
    return True


def _still_valid(staff: StaffRegistry, token: str) -> bool:
    """For a long-running response: is the token still good? (A throttled id is not.)"""
    try:
        return staff.authenticate(token) is not None
    except SignInThrottledError:
        return False


def throttled(exc: SignInThrottledError) -> Any:
    """429 problem+json: too many failed sign-ins for this id or from this address."""
    response = problem(429, exc.message, title="Too many failed sign-ins")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _unauthenticated(detail: str) -> Any:
    response = problem(401, detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="carelog"'
    return response
