"""What gunicorn refuses before the application sees a request is still answered as the API
answers every error: ``application/problem+json`` with the status and why, never an HTML
page (a fuzzer reading ``/openapi.json`` found the HTML 414 on a long query)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.served import environment, served
from web.server_errors import REQUEST_LINE_LIMIT

pytestmark = [pytest.mark.served, pytest.mark.store_independent, pytest.mark.unencrypted]


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_gunicorn_refusals_are_problem_documents(store: str, tmp_path: Path) -> None:
    with served(environment(store, tmp_path), tmp_path) as (server,):
        long_query = "/api/v1/patients?q=" + "x" * (REQUEST_LINE_LIMIT + 10)
        too_long = _raw(server.port, f"GET {long_query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        malformed = _raw(server.port, b"GET\x01 / HTTP/1.1\r\nHost: x\r\n\r\n")
        within = _raw(
            server.port,
            f"GET /api/v1/patients?q={'x' * 5000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        )

    head, _, body = too_long.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert b"Content-Type: application/problem+json" in head
    assert b'"status": 414' in body
    assert malformed.startswith(b"HTTP/1.1 400 ")
    assert b"application/problem+json" in malformed.partition(b"\r\n\r\n")[0]
    # A request line over gunicorn's default 4094 bytes reaches the API (401: no token).
    assert within.startswith(b"HTTP/1.1 401 ")
