"""The web pages: sign in, team dashboard, patient timeline, alert review, audit review.

``init_app(app)`` registers them on the API's Flask app. The pages' session must be read
before ``web.auth``'s bearer check, so its loader is put first among the app's
``before_request`` functions:

- a page (the ``pages`` blueprint) gets ``g.actor`` from the session, or is redirected to
  sign-in; every form post must carry the session's CSRF token;
- an API request gets ``g.actor`` from the session only for a GET of one of
  ``COOKIE_READABLE_API`` (the live feed, which ``EventSource`` cannot send a bearer header
  to) and only when it carries no ``Authorization`` header. API writes never accept the
  cookie: without a bearer token they stay 401.

The pages read and write through the same ``services.access.policy.Policy`` as the API, so a page
shows and records exactly what the matching API call would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, g, redirect, request

from web.pages.session import SESSION_LIFETIME, CsrfError, check_csrf, session_actor

COOKIE_READABLE_API = frozenset({"/api/v1/feed/stream"})
"""API paths a signed-in page may GET with its session cookie instead of a bearer token."""

PUBLIC_ENDPOINTS = frozenset(
    {
        "pages.static",
        "pages.favicon",
        "pages.sign_in",
        "pages.sign_in_form",
        "pages.home",
        "pages.sso_start",
        "pages.sso_callback",
    }
)
"""Page endpoints that do not need a signed-in session (home redirects by state)."""


def init_app(app: Flask) -> None:
    from web.pages import (  # noqa: F401 - importing registers each page's routes
        alerts,
        audit_review,
        dashboard,
        errors,
        outcomes,
        recording,
        signin,
        sso,
        timeline,
    )
    from web.pages.blueprint import bp
    from web.pages.formatting import register_filters

    app.config.update(
        SESSION_COOKIE_NAME="__Host-carelog",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    app.register_blueprint(bp)
    register_filters(app)
    # First in line: web.auth's bearer check skips requests whose g.actor is already set.
    app.before_request_funcs.setdefault(None, []).insert(0, load_session)


def load_session() -> Any:
    """Set ``g.actor`` from the pages' session where the session may stand in for a token."""
    if request.blueprint == "pages":
        return _page_request()
    if (
        request.method in ("GET", "HEAD")
        and request.path in COOKIE_READABLE_API
        and "Authorization" not in request.headers
    ):
        who = session_actor()
        if who is not None:
            g.actor = who
    return None


def _page_request() -> Any:
    if request.method == "POST":
        try:
            check_csrf(request.form)
        except CsrfError as exc:
            from web.pages.errors import error_page

            return error_page(400, "The form could not be accepted", str(exc))
    who = session_actor()
    if who is not None:
        g.actor = who
        return None
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    target = request.full_path if request.query_string else request.path
    return redirect(f"/login?next={quote(target, safe='/')}", code=303)
