"""Every error as ``application/problem+json`` (RFC 9457), mapped in this one place.

Domain errors carry a clinician-readable message and the field at fault; schema errors
carry marshmallow's messages by field. Status codes: 400 malformed input, 401 no or bad
token, 403 role or care team, 404 unknown id, 409 duplicate, 412 version moved on,
422 clinically invalid, 503 views not caught up.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from domain.errors import (
    CareLogError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
    NotPermittedError,
    RecordErasedError,
    SafetyBlockError,
    VersionConflictError,
)
from services.keys.errors import KeyUnavailableError

PROBLEM = "application/problem+json"


class MalformedError(CareLogError):
    """Input the server cannot read at all (a cursor it never issued, a bad header)."""


def is_cursor(text: str) -> bool:
    """A page cursor CareLog issues: ASCII digits only (``str.isdigit`` also accepts
    digits such as "¹" that ``int`` cannot read), short enough to be a position."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def refuse_nul_in_queries(app: Flask) -> None:
    """A NUL character in the query string is a 400 naming the parameter, for every
    endpoint and page: no store keeps one (PostgreSQL refuses it), so it could only end in
    a 500 further in. Bodies are checked by their schemas (``StrictSchema``)."""

    @app.before_request
    def _no_nul() -> None:
        for key, values in request.args.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                name = key.replace("\x00", "") or "query"
                raise MalformedError("May not contain a NUL character.", name)


STATUS_OF: list[tuple[type[CareLogError], int, str]] = [
    (MalformedError, 400, "Malformed request"),
    (SafetyBlockError, 422, "Refused by a safety rule"),
    (VersionConflictError, 412, "The record has changed"),
    (NotFoundError, 404, "Not found"),
    (NotPermittedError, 403, "Forbidden"),
    (DuplicateError, 409, "Already exists"),
    (InvalidInputError, 422, "Clinically or logically invalid"),
    (RecordErasedError, 410, "Record erased"),
    (KeyUnavailableError, 503, "Encryption key unavailable"),
    (CareLogError, 422, "Refused"),
]
TITLES = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Already exists",
    410: "Record erased",
    412: "The record has changed",
    415: "Unsupported media type",
    422: "Clinically or logically invalid",
    503: "Not ready",
    500: "Internal error",
}


def problem(
    status: int,
    detail: str,
    errors: dict[str, Any] | None = None,
    title: str | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"https://carelog.invalid/problems/{status}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def domain_problem(exc: CareLogError) -> Response:
    status, title = next((s, t) for cls, s, t in STATUS_OF if isinstance(exc, cls))
    extra: dict[str, Any] = {}
    if isinstance(exc, SafetyBlockError):
        # Nothing was written, so no alert was raised: no id to give (never "id": "").
        extra["alerts"] = [
            {k: v for k, v in alert.items() if not (k == "id" and not v)} for alert in exc.alerts
        ]
    if isinstance(exc, RecordErasedError):
        extra.update(patient_id=exc.patient_id, erased_at=exc.erased_at, reason=exc.reason)
    return problem(status, exc.message, exc.errors or None, title, **extra)


def _flatten(messages: Any) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {...}}); clients want {field: [..]}."""
    if isinstance(messages, dict) and set(messages) <= {
        "json",
        "query",
        "headers",
        "form",
        "files",
        "view_args",
        "querystring",
    }:
        merged: dict[str, Any] = {}
        for part in messages.values():
            merged.update(part if isinstance(part, dict) else {"_schema": part})
        messages = merged
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "_schema", []).extend(value)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return out


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CareLogError)
    def _domain(exc: CareLogError) -> Response:
        return domain_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        errors = _flatten(messages) if messages else None
        detail = (
            "Some fields are missing or malformed."
            if errors
            else (exc.description or TITLES.get(status, "Error"))
        )
        response = problem(status, detail, errors)
        for header, value in exc.get_headers() or []:
            if header.lower() not in {"content-type", "content-length"}:
                response.headers[header] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem(500, "Something went wrong; nothing you sent was lost or half-written.")
