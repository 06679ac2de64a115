"""Signing in to the pages through the single sign-on provider (OpenID Connect).

``/login/oidc`` starts the authorization-code flow: a fresh ``state``, ``nonce`` and PKCE
verifier go into the (signed, HTTP-only) cookie session, and the browser goes to the
provider. ``/login/oidc/callback`` accepts the answer only with the same ``state`` (so no
one can sign a browser in to someone else's account), exchanges the code with the
verifier, checks the ID token and its nonce (services/access/oidc), and starts the ordinary
server-side page session. Each attempt can be completed once.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash, redirect, render_template, request, session

from services.access.oidc import AccessDenied, NotSignedIn, SignInFailed
from services.access.oidc.provider import ProviderError
from web.auth import record_denied_sign_in
from web.context import carelog
from web.pages import session as page_session
from web.pages.blueprint import CONTENT_SECURITY_POLICY, bp
from web.pages.session import SESSION_LIFETIME

_PENDING = "oidc_pending"


def sso_base_url() -> str:
    """CareLog's public URL: ``CARELOG_OIDC_BASE_URL``, else as this request reached it."""
    return carelog().config.oidc_base_url or request.host_url.rstrip("/")


def _redirect_uri() -> str:
    return sso_base_url().rstrip("/") + "/login/oidc/callback"


@bp.app_context_processor
def _sign_on_button() -> dict[str, Any]:
    sso = carelog().sso
    return {"single_sign_on": sso.name if sso is not None and sso.pages_enabled else None}


@bp.after_request
def _let_sign_out_reach_the_provider(response: Response) -> Response:
    """The sign-out form's answer redirects to the provider's end-session page, and a
    form's redirects are bound by ``form-action``: allow the provider's origin there (and
    nowhere else). Runs before the blueprint's own headers, which then keep this one."""
    sso = carelog().sso
    if sso is not None and sso.pages_enabled and "Content-Security-Policy" not in response.headers:
        parts = urlsplit(sso.provider.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


def _refuse(status: int, message: str) -> Any:
    return render_template("pages/login.html", next=None, error=message), status


@bp.get("/login/oidc")
def sso_start() -> Any:
    from web.pages.signin import _safe_next

    sso = carelog().sso
    if sso is None or not sso.pages_enabled:
        return _refuse(404, "Single sign-on is not set up here: sign in with your staff token.")
    try:
        attempt = sso.authorization_url(_redirect_uri())
    except ProviderError:
        return _refuse(502, "The sign-in provider cannot be reached. Try again shortly.")
    session[_PENDING] = {
        "state": attempt.state,
        "nonce": attempt.nonce,
        "verifier": attempt.verifier,
        "next": _safe_next(request.args.get("next")),
    }
    return redirect(attempt.url, code=303)


@bp.get("/login/oidc/callback")
def sso_callback() -> Any:
    from web.pages.signin import landing

    sso = carelog().sso
    pending = session.pop(_PENDING, None)
    if sso is None or not sso.pages_enabled:
        return _refuse(404, "Single sign-on is not set up here.")
    state = request.args.get("state", "")
    if (
        not isinstance(pending, dict)
        or not isinstance(pending.get("state"), str)
        or not hmac.compare_digest(pending["state"].encode(), state.encode())
    ):
        return _refuse(
            400, "This sign-in has expired or was started elsewhere. Please sign in again."
        )
    issuer = request.args.get("iss")  # RFC 9207: the answer names who sent it
    if issuer is not None and issuer != sso.provider.issuer:
        return _refuse(400, "The sign-in answer came from another provider.")
    if "error" in request.args:
        detail = request.args.get("error_description") or request.args["error"]
        return _refuse(401, f"The sign-in provider did not sign you in: {detail[:200]}")
    code = request.args.get("code", "")
    if not code:
        return _refuse(400, "The sign-in provider sent no authorization code.")
    try:
        member, tokens = sso.complete(
            code, str(pending["verifier"]), str(pending["nonce"]), _redirect_uri()
        )
    except AccessDenied as error:
        record_denied_sign_in(error.staff_id, "sign-in", "no CareLog role at the provider")
        return _refuse(403, str(error))
    except NotSignedIn as error:
        record_denied_sign_in(error.staff_id, "sign-in", "deactivated in CareLog")
        return _refuse(401, str(error))
    except SignInFailed as error:
        return _refuse(502, str(error))
    secret = carelog().staff.start_session_for(member, SESSION_LIFETIME)
    sso.remember(secret, tokens)
    page_session.start(member, secret)
    flash(f"Signed in as {member.name} ({member.role}).")
    target = pending.get("next")
    return redirect(target if isinstance(target, str) else landing(member.actor), code=303)
