"""The pages' sign-in session and its CSRF token.

A staff member signs in with their API token. The session is a server-side record
(services/access/staff_sessions.py); Flask's session cookie (Secure, HTTP-only, SameSite=Lax,
``__Host-`` prefixed) carries only its random secret, never the token. Every request reads
the record again, so signing out ends the session for every copy of the cookie, and
rotating the token or deactivating the account (``carelog users``, in any process) ends it
on the next click, exactly as it ends API access. A session signed in through the single
sign-on provider (web/pages/sso.py) is also re-confirmed with the provider every few
minutes, and ends when the provider says the user is gone.

Every form carries the session's CSRF token; a POST without it (or from another origin)
is refused before any view runs.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from flask import g, request, session

from domain.actor import Actor
from services.access.staff import StaffMember
from web.context import carelog

SESSION_LIFETIME = timedelta(hours=8)
"""A sign-in lasts one working shift at most; after that the token is asked for again."""

CSRF_FIELD = "csrf_token"
_SESSION_KEY = "staff_session"
_CSRF_KEY = "csrf"


class CsrfError(Exception):
    """A form arrived without this session's CSRF token, or from another origin."""


def sign_in(token: str) -> StaffMember | None:
    """Start a session for the staff member the token belongs to (None: bad token).
    Raises ``SignInThrottledError`` after too many failures for the id or the address."""
    token = token.strip()
    if not token:
        return None
    started = carelog().staff.start_session(
        token, request.remote_addr or "unknown", SESSION_LIFETIME
    )
    if started is None:
        return None
    member, secret = started
    session.clear()  # nothing from before sign-in survives it, the CSRF token included
    session.permanent = True
    session[_SESSION_KEY] = secret
    session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return member


def start(member: StaffMember, secret: str) -> None:
    """Put a session started elsewhere (single sign-on: web/pages/sso.py) in the cookie;
    a session this browser had before ends (no copy of its cookie stays signed in)."""
    previous = session.get(_SESSION_KEY)
    if isinstance(previous, str) and previous != secret:
        carelog().staff.sessions.end(previous)
    session.clear()  # nothing from before sign-in survives it, the CSRF token included
    session.permanent = True
    session[_SESSION_KEY] = secret
    session[_CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out(post_logout_redirect: str | None = None) -> str | None:
    """End the server-side session (every copy of the cookie), then clear the cookie.
    For a single sign-on session: the provider's sign-out URL to go on to, if it has one."""
    secret = session.get(_SESSION_KEY)
    provider_logout = None
    if isinstance(secret, str):
        carelog().staff.sessions.end(secret)
        sso = carelog().sso
        if sso is not None and post_logout_redirect is not None:
            provider_logout = sso.sign_out(secret, post_logout_redirect)
    session.clear()
    return provider_logout


def session_actor() -> Actor | None:
    """The signed-in staff member, if the session is still running."""
    secret = session.get(_SESSION_KEY)
    if not isinstance(secret, str):
        return None
    staff = carelog().staff
    member = staff.session_member(secret)
    sso = carelog().sso
    if member is not None and sso is not None and not sso.still_valid(secret):
        staff.sessions.end(secret)  # the provider says the user is gone
        member = None
    if member is None:
        session.clear()
        return None
    g.still_signed_in = lambda: (
        staff.session_member(secret) is not None and (sso is None or sso.still_valid(secret))
    )
    return member.actor


def csrf_token() -> str:
    """This session's CSRF token (created for a visitor who has not signed in yet)."""
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


def check_csrf(form: Any) -> None:
    """Refuse a form post without this session's token or from another origin."""
    expected = session.get(_CSRF_KEY)
    given = form.get(CSRF_FIELD, "")
    if (
        not isinstance(expected, str)
        or not isinstance(given, str)
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise CsrfError("The form has expired or did not come from CareLog.")
    origin = request.headers.get("Origin")
    # Host only: behind a TLS-terminating proxy the scheme seen here may differ.
    if origin and origin != "null" and urlparse(origin).netloc != request.host:
        raise CsrfError("The form was sent from another site.")
