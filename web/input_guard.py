"""Input CareLog refuses before any endpoint reads it: bodies too large (413), JSON nested
too deep, text no store can keep (a NUL, a lone UTF-16 surrogate), numbers no clinical
entry can hold (non-finite, or beyond ``PLAUSIBLE_MAGNITUDE``) and control characters in
the headers CareLog reads (400, naming the field).

Why here, once, rather than in each schema: Python's JSON reader recurses per level (a
deep enough document was a ``RecursionError``, a 500; it is caught here), reads ``1e400``
as infinity and ``"\\ud800"`` as a string that cannot be encoded for the store; every
endpoint that took a body would otherwise have to remember all three. The size is checked
from ``Content-Length`` before anything is read; a streamed (chunked) body is read up to
one byte past the limit and refused there (``_bounded_stream``).
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

from flask import Flask, Response, request

from web.errors import problem

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a body may have (CareLog's own are ~4)."""
PLAUSIBLE_MAGNITUDE = 1e12
"""No number in a clinical entry (a dose, a count, a lab value, a score) is this large."""
READ_HEADERS = (
    "Authorization",
    "Idempotency-Key",
    "If-Match",
    "X-Request-ID",
    "Last-Event-ID",
    "Origin",
    "Content-Type",
)
"""Headers CareLog reads; a control character in one is refused, never passed on."""
TOKEN_PARAMETERS = frozenset({"token", "access_token", "api_key", "apikey", "bearer"})
"""Query parameters that would carry a bearer token in a URL: refused before anything
reads or logs the request (CareLog's request log records the path, never the query)."""

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NUL = "May not contain a NUL character."
_LONE_SURROGATE = "May not contain a lone UTF-16 surrogate (not a character)."
_NOT_FINITE = "Give a finite number."
_TOO_LARGE = f"Implausibly large: no clinical value here exceeds {PLAUSIBLE_MAGNITUDE:g}."


class _NotFinite(ValueError):
    """NaN or Infinity, which JSON does not have but Python's reader accepts."""


def init_app(app: Flask, max_request_bytes: int) -> None:
    """Size and headers first in line (before the session or the token is looked at:
    nothing is read for a body that is refused, and ``Authorization`` is one of the
    headers); the body after authentication, so a stranger gets a 401 before it is read."""
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    def too_large() -> Response | None:
        length = request.content_length
        if length is not None and length > max_request_bytes:
            return _too_large(max_request_bytes)
        if length is None and request.environ.get("wsgi.input_terminated"):
            return _bounded_stream(max_request_bytes)
        return None

    first = app.before_request_funcs.setdefault(None, [])
    first[0:0] = [too_large, _check_headers]  # the token header is read by the next ones
    app.before_request(_check_json_body)


def _bounded_stream(limit: int) -> Response | None:
    """A streamed (chunked) body: read at most one byte past the limit, refuse it if it
    goes past, else hand it on as a sized body. (Werkzeug's own limit on a stream stops
    reading at the limit and returns what it has, a truncated body, without a 413.)"""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    raw = request.environ["wsgi.input"].read(limit + 1)
    if len(raw) > limit:
        return _too_large(limit)
    request.environ["wsgi.input"] = io.BytesIO(raw)
    request.environ["CONTENT_LENGTH"] = str(len(raw))
    return None


def _too_large(limit: int) -> Response:
    return problem(
        413,
        f"The request body is larger than CareLog accepts ({limit} bytes).",
        title="Content too large",
    )


def _check_headers() -> Response | None:
    """Headers, the path, form fields and query parameter names: before anything reads them
    (a NUL in a sign-in token reached a PostgreSQL query: a 500)."""
    errors = {
        name: ["May not contain a NUL or other control character."]
        for name in READ_HEADERS
        if _CONTROL.search(request.headers.get(name, ""))
    }
    if "\x00" in request.path:  # an id in the path: no store keeps a NUL either
        errors["path"] = [_NUL]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.form.lists():  # the pages' forms (bounded above)
            if "\x00" in key or any("\x00" in value for value in values):
                errors[key.replace("\x00", "") or "form"] = [_NUL]
    for name in request.args:
        if name.lower() in TOKEN_PARAMETERS:
            errors[name] = [
                "Send a token only in the Authorization header: one in a URL is kept in "
                "logs, histories and proxies."
            ]
    return _refuse(errors) if errors else None


WRITE_METHODS = ("POST", "PUT", "PATCH")
NOT_JSON = "Send the body as JSON, with Content-Type: application/json."


def _check_json_body() -> Response | None:
    api_write = request.method in WRITE_METHODS and request.path.startswith("/api/")
    if api_write and not request.is_json:  # else: "instrument: Missing data", about nothing
        return problem(415, NOT_JSON, title="Unsupported media type")
    if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    raw = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH (413 beyond it)
    if not raw:
        return None
    too_deep = _refuse({"_schema": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]})
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:  # the reader's own guard, far deeper than ours
        return too_deep
    except _NotFinite:
        return _refuse({"_schema": [_NOT_FINITE]})
    except ValueError:
        return None  # not JSON at all: the endpoint's parser says so (400)
    if json_depth(document) > MAX_JSON_DEPTH:
        return too_deep
    errors: dict[str, list[str]] = {}
    for path, message in refusals(document):
        errors.setdefault(path or "_schema", []).append(message)
    return _refuse(errors) if errors else None


def json_depth(document: Any) -> int:
    """The deepest nesting of arrays and objects in a parsed document (without recursion:
    the walk itself must not be what a deep document breaks)."""
    deepest, stack = 0, [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend(
                (inner, depth) for inner in (value.values() if isinstance(value, dict) else value)
            )
    return deepest


def refusals(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Each (field path, message) CareLog cannot accept in a parsed JSON document."""
    if isinstance(value, str):
        return _text_refusals(value, path)
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return [(path, _NOT_FINITE)]
        if abs(value) > PLAUSIBLE_MAGNITUDE:
            return [(path, _TOO_LARGE)]
        return []
    if isinstance(value, dict):
        found: list[tuple[str, str]] = []
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            found += _text_refusals(key, path) + refusals(inner, _printable(where))
        return found
    if isinstance(value, list):
        return [p for n, inner in enumerate(value) for p in refusals(inner, f"{path}.{n}")]
    return []


def _text_refusals(text: str, path: str) -> list[tuple[str, str]]:
    found = []
    if "\x00" in text:
        found.append((_printable(path), _NUL))
    if _SURROGATE.search(text):
        found.append((_printable(path), _LONE_SURROGATE))
    return found


def _printable(path: str) -> str:
    """A field path safe to echo back (a refused key is named without its bad characters)."""
    return _SURROGATE.sub("?", path.replace("\x00", ""))


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _refuse(errors: dict[str, list[str]]) -> Response:
    return problem(400, "Some fields are missing or malformed.", errors)
