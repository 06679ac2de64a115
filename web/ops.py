"""Operations endpoints (no authentication): liveness, readiness, offline API docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory

from web.context import carelog

blp = Blueprint("ops", __name__)


def _swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz() -> Response:
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
    return jsonify(body)


def _not_ready(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = 503
    return response


@blp.get("/docs/static/<path:filename>")
def swagger_static(filename: str) -> Response:
    """Swagger UI's files from the pip-installed bundle: the docs work offline."""
    return send_from_directory(_swagger_dir(), filename)
