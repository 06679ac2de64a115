"""Operations endpoints (no authentication): liveness, readiness, offline API docs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_from_directory
from flask_smorest import Blueprint as DocumentedBlueprint
from marshmallow import Schema, fields

from domain.actor import Role
from services.access.sign_in_limits import SignInThrottledError
from web.context import carelog

log = logging.getLogger(__name__)
blp = DocumentedBlueprint("ops", __name__, description="Liveness and readiness (no token needed).")
assets = Blueprint("docs_assets", __name__)
PUBLIC: list[dict[str, list[str]]] = []  # security: none


class HealthOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


class ViewStatusOut(Schema):
    """One view's progress through the log."""

    name = fields.String(required=True)
    position = fields.Integer(metadata={"description": "admin or auditor token only"})
    head = fields.Integer(metadata={"description": "admin or auditor token only"})
    lag_events = fields.Integer(required=True)
    lag_seconds = fields.Float(required=True)
    state = fields.String(required=True, metadata={"enum": ["caught_up", "behind", "quarantined"]})
    quarantined = fields.List(
        fields.Dict(), metadata={"description": "admin or auditor token only"}
    )
    streams = fields.Dict(keys=fields.String(), values=fields.Dict())
    runner_error = fields.String(allow_none=True)
    listener_error = fields.String(allow_none=True)


class ReadyOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "degraded"]})
    head = fields.Integer(
        metadata={"description": "last position in the log (admin or auditor token only)"}
    )
    views = fields.List(
        fields.Nested(ViewStatusOut),
        metadata={
            "description": "each view's lag; without an admin's or auditor's bearer token "
            "only name, lag_events, lag_seconds and state"
        },
    )
    integrity = fields.Dict(
        allow_none=True,
        metadata={"description": "last verified position (admin or auditor token only)"},
    )


class NotReadyOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["unavailable"]})
    store = fields.String(required=True)


def _swagger_dir() -> Path:
    """Swagger UI 5 (it reads OpenAPI 3.1, which CareLog's document is), as the maintained
    ``flask-swagger-ui`` package ships it: its ``dist`` folder holds SmartBear's
    unmodified release files and their Apache-2.0 LICENSE. Only those files are used, not
    the package's blueprint: flask-smorest renders the page."""
    import flask_swagger_ui

    return Path(flask_swagger_ui.__file__).parent / "dist"


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthOut)
@blp.doc(security=PUBLIC)
def healthz() -> dict[str, Any]:
    """The process is up."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadyOut)
@blp.alt_response(503, schema=NotReadyOut, description="The store is unreachable")
@blp.doc(security=PUBLIC)
def readyz() -> Any:
    """Store reachable and each view's lag in events, for anyone (a load balancer); the log
    head, each view's position and quarantined events, and the last verified position
    only with an admin's or auditor's bearer token."""
    instance = carelog()
    body: dict[str, Any] = {"status": "ok"}
    try:
        head = instance.app.recorder.max_notification_id() or 0
    except Exception as exc:  # the cause goes to the server log, not to any caller
        log.warning("readyz: the store is unreachable: %s", exc)
        return _not_ready({"status": "unavailable", "store": "unreachable"})
    detailed = _operator()
    if detailed:
        body["head"] = head
    views = getattr(instance, "views", None)
    if views is not None:
        status = views.status()
        if any(v.get("quarantined") for v in status):
            body["status"] = "degraded"
        body["views"] = status if detailed else [_public_view(v) for v in status]
    integrity = getattr(instance, "integrity", None)
    if integrity is not None and detailed:
        body["integrity"] = integrity.status()
    return body


PUBLIC_VIEW_FIELDS = ("name", "lag_events", "lag_seconds", "state")
"""What an unauthenticated caller sees of a view: its lag (API.md), not the log's head,
positions, quarantined event ids or error texts (red-team F13)."""


def _public_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: view[k] for k in PUBLIC_VIEW_FIELDS if k in view}


def _operator() -> bool:
    """Whether the request carries a valid bearer token of an admin or an auditor. A bad
    or missing one is no error here: the caller gets the public answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        member = carelog().staff.authenticate(token.strip(), request.remote_addr or "unknown")
    except SignInThrottledError:
        return False
    return member is not None and member.role in {Role.ADMIN, Role.AUDITOR}


def _not_ready(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 503
    return response


@assets.get("/docs/static/<path:filename>")
def swagger_static(filename: str) -> Response:
    """Swagger UI's files from the pip-installed bundle: the docs work offline."""
    return send_from_directory(_swagger_dir(), filename)
