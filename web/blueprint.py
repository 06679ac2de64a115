"""A flask-smorest Blueprint that documents CareLog's conventions on every endpoint:
400 for malformed bodies (not webargs' 422), problem+json errors, bearer security, the
write headers (``If-Match``, ``Idempotency-Key``, ``ETag``) and ``Retry-After`` on 503."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser

from web.schemas.common import BLANK, CLINICAL_REFUSALS, WRITE_RESULT, ProblemSchema

COMMON_ERRORS = {
    401: "No or bad bearer token",
    403: "Wrong role, or not on the care team",
    429: "Too many failed sign-ins for this staff id or from this address (see Retry-After)",
}

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": 'The record version the write expects, as its ETag (`"7"`); if the '
    "record has moved on: 412 and nothing is written.",
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "A repeat with the same key and body returns the first response and "
    "writes nothing; the same key with another body is a 422.",
    "schema": {"type": "string", "maxLength": 255},
}
LAST_EVENT_ID = {
    "in": "header",
    "name": "Last-Event-ID",
    "required": False,
    "description": "Resume after this log position (the `id` of the last event received).",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
ETAG = {
    "ETag": {
        "description": 'The patient record\'s version after the write (`"7"`), for If-Match.',
        "schema": {"type": "string"},
    }
}
READ_ETAG = {
    "ETag": {
        "description": 'The patient record\'s version this answer shows (`"7"`): send it as '
        "If-Match on a write to refuse the write (412) if the record has moved on since.",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    }
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "schema": {"type": "integer"},
    }
}


class CareLogParser(FlaskParser):
    """Malformed input is a 400; a request whose only fault is a missing (or blank)
    clinical justification a schema lists in ``CLINICALLY_REQUIRED`` is well-formed but
    clinically incomplete: 422, with the field named like every other error."""

    def handle_error(
        self,
        error: ValidationError,
        req: Any,
        schema: Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        if _only_missing_justification(error.messages, schema) or _only_clinical(error.messages):
            error_status_code = 422
        super().handle_error(
            error,
            req,
            schema,
            error_status_code=error_status_code,
            error_headers=error_headers,
        )
        raise AssertionError("handle_error aborts")  # pragma: no cover


def _only_missing_justification(messages: Any, schema: Schema) -> bool:
    required = getattr(schema, "CLINICALLY_REQUIRED", ())
    if not required or not isinstance(messages, dict):
        return False
    by_field = messages.get("json")
    if not isinstance(by_field, dict) or not by_field:
        return False
    for name, found in by_field.items():
        if name not in required:
            return False
        field = schema.fields[name]
        missing = {field.error_messages["required"], field.error_messages["null"], BLANK}
        if not isinstance(found, list) or not set(found) <= missing:
            return False
    return True


def _only_clinical(messages: Any) -> bool:
    """Every message is a well-formed but clinically impossible value (a dose no drug
    has, a time before 1900): 422 like the domain's refusals, not 400."""
    found: list[str] = []

    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return all(walk(inner) for inner in value.values())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            found.extend(value)
            return True
        return False

    return walk(messages) and bool(found) and set(found) <= CLINICAL_REFUSALS


class CareLogBlueprint(Blueprint):  # type: ignore[misc]
    """Blueprint with CareLog's defaults."""

    ARGUMENTS_PARSER = CareLogParser()

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[..., Any]:
        kwargs.setdefault("error_status_code", 400)
        return super().arguments(schema, **kwargs)  # type: ignore[no-any-return]

    def read(
        self, rule: str, query: Any, answer: Any, *codes: int, **response: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare ``GET rule``: the query string parsed by ``query``, a 200 answered with
        ``answer`` (``response``: its headers or content type) and the problem responses
        ``codes``; every read of the API is declared so."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            view = self.errors(*codes)(view)
            view = self.response(200, answer, **response)(view)
            view = self.arguments(query, location="query")(view)
            return self.route(rule, methods=["GET"])(view)  # type: ignore[no-any-return]

        return decorate

    def write(
        self,
        rule: str,
        body: Any,
        *codes: int,
        versioned: bool = True,
        endpoint: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare ``POST rule``: the body parsed by ``body``, a 201 write result (see
        ``write_response``) and the problem responses ``codes``; every write of the API is
        declared so."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            view = self.errors(*codes)(view)
            view = self.write_response(versioned=versioned)(view)
            view = self.arguments(body)(view)
            return self.route(  # type: ignore[no-any-return]
                rule, methods=["POST"], endpoint=endpoint
            )(view)

        return decorate

    def write_response(
        self, *, versioned: bool = True
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document a write: 201 with the write result and its ETag, and the request
        headers it honours (``If-Match`` only where a record exists to have a version)."""
        headers = [IF_MATCH, IDEMPOTENCY_KEY] if versioned else [IDEMPOTENCY_KEY]

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            view = self.response(201, WRITE_RESULT, headers=ETAG)(view)
            view = self.alt_response(  # a body beyond the size limit (web/input_guard.py)
                413,
                schema=ProblemSchema,
                description="The body is larger than CareLog accepts",
                content_type="application/problem+json",
            )(view)
            view = self.alt_response(  # a body sent as anything but JSON (web/input_guard.py)
                415,
                schema=ProblemSchema,
                description="The body was not sent as JSON (Content-Type: application/json)",
                content_type="application/problem+json",
            )(view)
            if versioned:  # an If-Match the record has moved past is answered 412
                view = self.errors(412)(view)
            return self.doc(parameters=headers)(view)  # type: ignore[no-any-return]

        return decorate

    def errors(self, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document the problem responses an endpoint may give."""
        descriptions = {
            400: "Malformed request (field errors in `errors`)",
            404: "Unknown patient or entity",
            409: "Already exists",
            412: "If-Match did not match the record's version; nothing written",
            422: "Well-formed but clinically invalid; nothing written",
            503: "Views not caught up with min_position (see Retry-After)",
            410: "The patient's record was erased (its data key destroyed): `detail` says "
            "when and why",
            **COMMON_ERRORS,
        }
        erasable = {410} if 404 in codes else set()  # whatever names a patient may be erased
        # 400 everywhere: a NUL character in a header, the path or the query is refused
        # before any endpoint reads it (web/input_guard.py, web/errors.py).
        malformed = {400}

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            for code in sorted({*COMMON_ERRORS, *codes, *erasable, *malformed}):
                view = self.alt_response(
                    code,
                    schema=ProblemSchema,
                    description=descriptions.get(code, "Error"),
                    content_type="application/problem+json",
                    headers=RETRY_AFTER if code in (429, 503) else None,
                )(view)
            return view

        return decorate
