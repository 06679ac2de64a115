"""Signing in and out, and where each role lands.

A failed sign-in with a token that names a known staff member is recorded in the access
log as a denied attempt, as a bad bearer token is (web/auth.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Response, flash, g, redirect, render_template, request, send_from_directory

from domain.actor import Actor, Role
from services.access.sign_in_limits import SignInThrottledError
from web.auth import record_bad_token
from web.pages import session as page_session
from web.pages.blueprint import bp
from web.pages.sso import sso_base_url

LANDING = {
    Role.PSYCHIATRIST: "/dashboard",
    Role.THERAPIST: "/dashboard",
    Role.PHARMACIST: "/dashboard",
    Role.AUDITOR: "/audit-review",
    Role.ADMIN: "/account",
}


def landing(who: Actor) -> str:
    return LANDING.get(who.role, "/account")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never ``//host`` or a full URL): no open redirect.

    Browsers drop tabs and newlines from a URL and read a backslash as a slash, so
    ``/<tab>/evil.example`` and ``/\\evil.example`` are ``//evil.example`` to them; the
    path is checked again percent-decoded (``/%2F/evil.example``), for whatever in front
    of CareLog might decode it. Anything doubtful falls back to the landing page."""
    if not target or _unsafe_characters(target):
        return None
    path = unquote(target.split("?", 1)[0].split("#", 1)[0])
    for candidate in (target, path):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return None
    if _unsafe_characters(path) or " " in path:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def _unsafe_characters(text: str) -> bool:
    return "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in text)


@bp.get("/")
def home() -> Any:
    who = g.get("actor")
    return redirect(landing(who) if who else "/login", code=303)


@bp.get("/login")
def sign_in_form() -> Any:
    who = g.get("actor")
    if who is not None:
        return redirect(landing(who), code=303)
    return render_template("pages/login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login")
def sign_in() -> Any:
    token = request.form.get("token", "")
    target = _safe_next(request.form.get("next"))
    try:
        member = page_session.sign_in(token)
    except SignInThrottledError as exc:
        return _throttled(exc, target)
    if member is None:
        _record_failed_sign_in(token.strip())
        return render_template(
            "pages/login.html",
            next=target,
            error="That token is not valid. Check it and try again.",
        ), 401
    flash(f"Signed in as {member.name} ({member.role}).")
    return redirect(target or landing(member.actor), code=303)


@bp.post("/logout")
def sign_out() -> Any:
    provider_logout = page_session.sign_out(sso_base_url() + "/login")
    flash("You have signed out.")
    # A single sign-on session also ends at the provider, where it can (RP-initiated logout).
    return redirect(provider_logout or "/login", code=303)


@bp.get("/account")
def account() -> Any:
    return render_template("pages/account.html", who=g.actor)


@bp.get("/favicon.ico")
def favicon() -> Response:
    return send_from_directory(
        bp.static_folder or "static", "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )


def _record_failed_sign_in(token: str) -> None:
    record_bad_token(token, "sign-in")


def _throttled(exc: SignInThrottledError, target: str | None) -> Any:
    """429 with ``Retry-After``: too many failed sign-ins for this id or from this address."""
    page = render_template("pages/login.html", next=target, error=exc.message)
    return page, 429, {"Retry-After": str(exc.retry_after)}
