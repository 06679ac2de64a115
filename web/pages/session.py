"""The pages' sign-in session and its CSRF token.

A staff member signs in with their API token. The token goes into Flask's session cookie
(Secure, HTTP-only, SameSite=Lax, ``__Host-`` prefixed), encrypted: Flask signs its cookie
but does not hide it, and a copied cookie must not hand out a bearer token for the API.
The token, not just the staff id, is kept so that every request asks the staff registry
again: rotating or revoking a token (``carelog users``) or deactivating the account ends
the page session on the next click, exactly as it ends API access.

Every form carries the session's CSRF token; a POST without it (or from another origin)
is refused before any view runs.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, request, session

from domain.actor import Actor
from services.staff import StaffMember
from web.context import carelog

SESSION_LIFETIME = timedelta(hours=8)
"""A sign-in lasts one working shift at most; after that the token is asked for again."""

CSRF_FIELD = "csrf_token"
_TOKEN_KEY = "staff_token"
_CSRF_KEY = "csrf"


class CsrfError(Exception):
    """A form arrived without this session's CSRF token, or from another origin."""


def _fernet() -> Fernet:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"carelog pages session token"
    ).derive(secret)
    return Fernet(base64.urlsafe_b64encode(key))


def sign_in(token: str) -> StaffMember | None:
    """Start a session for the staff member the token belongs to (None: bad token)."""
    token = token.strip()
    member = carelog().staff.authenticate(token) if token else None
    if member is None:
        return None
    session.clear()  # nothing from before sign-in survives it, the CSRF token included
    session.permanent = True
    session[_TOKEN_KEY] = _fernet().encrypt(token.encode()).decode()
    session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return member


def sign_out() -> None:
    session.clear()


def session_actor() -> Actor | None:
    """The signed-in staff member, if the session holds a token that is still valid."""
    sealed = session.get(_TOKEN_KEY)
    if not isinstance(sealed, str):
        return None
    try:
        token = (
            _fernet().decrypt(sealed.encode(), ttl=int(SESSION_LIFETIME.total_seconds())).decode()
        )
    except InvalidToken:
        session.clear()
        return None
    member = carelog().staff.authenticate(token)
    if member is None:
        session.clear()
        return None
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
