"""The pages' blueprint: server-rendered HTML with its own templates and static files.

Static files are served under ``/static/pages/`` (public, like every ``/static/`` path);
nothing is loaded from another origin, which the Content-Security-Policy enforces.
"""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/pages",
)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


@bp.after_request
def _protect(response: Response) -> Response:
    """Pages hold patient data: not cached, not framed, nothing from elsewhere."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    # same-origin keeps the Origin header on form posts (checked with the CSRF token).
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response
