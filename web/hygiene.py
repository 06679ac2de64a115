"""Response headers every answer carries: nothing with patient data is cached, nothing is
content-sniffed, nothing is framed; the API docs page runs only its own scripts.

The pages' blueprint sets its own Content-Security-Policy (``web.pages.blueprint``); the
rest is set here, once, for the API, the docs and everything else:

- ``Cache-Control: no-store`` on every answer but the static files (which hold no patient
  data): an API answer carrying a plan must not sit in a browser's or a proxy's cache;
- ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` everywhere;
- a CSP of ``default-src 'none'; frame-ancestors 'none'`` on API answers (JSON is never
  a document to run), and on ``/docs`` one that allows Swagger UI's files from this
  origin and its one inline script by hash (computed from the page as served, so a
  flask-smorest upgrade that changes the script cannot silently break or widen it).
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

STATIC_PREFIXES = ("/static/", "/docs/static/", "/favicon.ico")
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: str) -> str:
    """The docs page's CSP: Swagger UI from this origin, its inline script by hash.

    Swagger UI sets ``style`` attributes from script, which ``style-src`` must allow;
    styles cannot run code, scripts can, and only the hashed one runs."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(page)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            "form-action 'self'",
        )
    )


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith(STATIC_PREFIXES):
            headers["Cache-Control"] = "no-store"
        if "Content-Security-Policy" not in headers:
            if request.path.rstrip("/") == "/docs" and response.mimetype == "text/html":
                headers["Content-Security-Policy"] = docs_policy(response.get_data(as_text=True))
            elif not request.path.startswith(STATIC_PREFIXES):
                headers["Content-Security-Policy"] = API_POLICY
        return response
