"""Operations endpoints (no authentication): liveness, readiness, offline API docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory
from flask_smorest import Blueprint as DocumentedBlueprint
from marshmallow import Schema, fields

from web.context import carelog

blp = DocumentedBlueprint("ops", __name__, description="Liveness and readiness (no token needed).")
assets = Blueprint("docs_assets", __name__)
PUBLIC: list[dict[str, list[str]]] = []  # security: none


class HealthOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


class ViewStatusOut(Schema):
    """One view's progress through the log."""

    name = fields.String(required=True)
    position = fields.Integer(required=True)
    head = fields.Integer(required=True)
    lag_events = fields.Integer(required=True)
    lag_seconds = fields.Float(required=True)
    state = fields.String(required=True, metadata={"enum": ["caught_up", "behind", "quarantined"]})
    quarantined = fields.List(fields.Dict(), required=True)
    streams = fields.Dict(keys=fields.String(), values=fields.Dict())
    runner_error = fields.String(allow_none=True)
    listener_error = fields.String(allow_none=True)


class ReadyOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "degraded"]})
    head = fields.Integer(required=True, metadata={"description": "last position in the log"})
    views = fields.List(fields.Nested(ViewStatusOut))
    integrity = fields.Dict(allow_none=True)


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
    """Store reachable; each view's lag and quarantined events; last verified position."""
    instance = carelog()
    body: dict[str, Any] = {"status": "ok"}
    try:
        body["head"] = instance.app.recorder.max_notification_id() or 0
    except Exception as exc:
        return _not_ready({"status": "unavailable", "store": f"unreachable: {exc}"})
    views = getattr(instance, "views", None)
    if views is not None:
        body["views"] = views.status()
        if any(v.get("quarantined") for v in body["views"]):
            body["status"] = "degraded"
    integrity = getattr(instance, "integrity", None)
    if integrity is not None:
        body["integrity"] = integrity.status()
    return body


def _not_ready(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 503
    return response


@assets.get("/docs/static/<path:filename>")
def swagger_static(filename: str) -> Response:
    """Swagger UI's files from the pip-installed bundle: the docs work offline."""
    return send_from_directory(_swagger_dir(), filename)
