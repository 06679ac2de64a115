"""The write path over HTTP: authorization, If-Match, Idempotency-Key, 201 with ETag.

A write is authorized by role before anything is loaded; the domain then checks care-team
standing and its invariants. With ``If-Match`` the record must still be at that version
(412 otherwise, nothing written). With ``Idempotency-Key`` a repeat of the same request
returns the first response and writes nothing; the same key with another body is a 422.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request

from domain.command_context import CommandContext
from domain.errors import InvalidInputError, NotPermittedError
from services.writing.application import WriteResult
from services.writing.idempotency import IdempotencyStore, StoredResponse
from web.context import actor, carelog, command_context, policy, request_info
from web.errors import MalformedError
from web.schemas.common import WRITE_RESULT

_ETAG = re.compile(r'^\s*(W/)?"?(\d+)"?\s*$')


def expected_version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        raise MalformedError('If-Match must be a record version like "7".', "If-Match")
    return int(match.group(2))


def idempotency() -> IdempotencyStore:
    store: IdempotencyStore = carelog().idempotency
    return store


def write(
    what: str, patient_id: str | None, run: Callable[[CommandContext, int | None], WriteResult]
) -> Response:
    """Run one write with CareLog's HTTP conventions."""
    who = actor()
    info = request_info()
    policy().require_write(who, what, info, patient_id)
    expected = expected_version()
    key = request.headers.get("Idempotency-Key")
    store = idempotency() if key else None
    if store is not None and key is not None:
        if len(key) > 255:
            raise InvalidInputError("Idempotency-Key is at most 255 characters.", "Idempotency-Key")
        fingerprint = store.fingerprint(request.method, request.path, request.get_data())
        stored = store.claim(who.id, key, fingerprint)
        if stored is not None:
            return _respond(stored, replayed=True)
    try:
        result = run(command_context(), expected)
    except NotPermittedError as exc:
        policy().record_denied_write(who, patient_id, what, info, exc.message)
        _release(store, who.id, key)
        raise
    except BaseException:
        _release(store, who.id, key)
        raise
    # The declared response schema shapes the body before it is stored, so a replay
    # returns exactly what the first response sent.
    body = WRITE_RESULT.dump(result.as_dict())
    response = StoredResponse(
        201, json.loads(json.dumps(body, default=_json)), {"ETag": f'"{result.version}"'}
    )
    if store is not None and key is not None:
        store.store(who.id, key, response)
    return _respond(response, replayed=False)


def _release(store: IdempotencyStore | None, actor_id: str, key: str | None) -> None:
    if store is not None and key is not None:
        store.release(actor_id, key)


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _respond(stored: StoredResponse, replayed: bool) -> Response:
    response = jsonify(stored.body)
    response.status_code = stored.status
    for name, value in stored.headers.items():
        response.headers[name] = value
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
