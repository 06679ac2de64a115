"""A flask-smorest Blueprint that documents CareLog's conventions on every endpoint:
400 for malformed bodies (not webargs' 422), problem+json errors, bearer security."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint

from web.schemas.common import ProblemSchema

COMMON_ERRORS = {401: "No or bad bearer token", 403: "Wrong role, or not on the care team"}


class CareLogBlueprint(Blueprint):  # type: ignore[misc]
    """Blueprint with CareLog's defaults."""

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[..., Any]:
        kwargs.setdefault("error_status_code", 400)
        return super().arguments(schema, **kwargs)  # type: ignore[no-any-return]

    def errors(self, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Document the problem responses an endpoint may give."""
        descriptions = {
            400: "Malformed request (field errors in `errors`)",
            404: "Unknown patient or entity",
            409: "Already exists",
            412: "If-Match did not match the record's version; nothing written",
            422: "Well-formed but clinically invalid; nothing written",
            503: "Views not caught up with min_position (see Retry-After)",
            **COMMON_ERRORS,
        }

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            for code in sorted({401, 403, *codes}):
                view = self.alt_response(
                    code,
                    schema=ProblemSchema,
                    description=descriptions.get(code, "Error"),
                    content_type="application/problem+json",
                )(view)
            return view

        return decorate
