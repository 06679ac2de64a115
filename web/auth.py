"""Bearer-token authentication on every endpoint but health checks and the API docs.

A bad token that names a known staff member is recorded in the access log as a denied
attempt (someone is trying that account); an unknown one is only logged.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from web.context import carelog, request_info
from web.errors import problem

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
        member = carelog().staff.authenticate(token.strip())
        if member is None:
            claimed = carelog().staff.claimed_id(token.strip())
            if claimed is not None:
                known = carelog().staff.get(claimed)
                info = request_info()
                access_log = getattr(carelog(), "access_log", None)
                if access_log is not None and known is not None:
                    access_log.record(
                        actor_id=known.id,
                        actor_role=str(known.role),
                        patient_id=None,
                        what="authenticate",
                        request_id=info.request_id,
                        source=info.source,
                        allowed=False,
                        reason="bad or revoked token",
                    )
            return _unauthenticated("The token is not valid.")
        g.actor = member.actor
        return None


def _unauthenticated(detail: str) -> Any:
    response = problem(401, detail)
    response.headers["WWW-Authenticate"] = 'Bearer realm="carelog"'
    return response
