"""gunicorn's own refusals (a request line or headers too long, a malformed request line)
answered as ``application/problem+json`` like every other error, not as gunicorn's HTML page.

These requests never reach the application: gunicorn refuses them while parsing. A client
of the API, or a fuzzer reading ``/openapi.json``, would otherwise receive the one answer
in the API that is not JSON. gunicorn writes them through ``gunicorn.util.write_error``,
so that function is replaced in the serving process, before the workers fork."""

from __future__ import annotations

import json
from typing import Any

from web.errors import PROBLEM

REQUEST_LINE_LIMIT = 8190
"""gunicorn's largest finite request-line limit (its default is 4094): a long query (many
repeated parameters) is answered by the API's own validation, not refused unread."""


def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error``, with an RFC 9457 body."""
    from gunicorn import util

    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg},
        ensure_ascii=True,
    )
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {PROBLEM}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1"))


def install() -> None:
    from gunicorn import util

    util.write_error = write_problem
