"""Declares the simple clinical write endpoints: body schema → command, with the same
HTTP conventions everywhere (see ``web.writes``). A command with more to it gets its own
handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Response

from domain.command_context import CommandContext
from services.writing.application import WriteResult
from web.blueprint import CareLogBlueprint
from web.context import carelog
from web.writes import write

Handler = Callable[[CommandContext, str, int | None, dict[str, Any]], WriteResult]


def command(name: str) -> Handler:
    """A handler running one generic command of ``services.writing.commands``."""

    def run(
        ctx: CommandContext, pid: str, version: int | None, fields: dict[str, Any]
    ) -> WriteResult:
        return carelog().commands.execute(ctx, pid, name, expected_version=version, **fields)

    return run


def add_write(
    blp: CareLogBlueprint,
    rule: str,
    schema: type,
    *,
    endpoint: str,
    what: str | Callable[[dict[str, Any]], str],
    handler: Handler,
    summary: str,
    prepare: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]] | None = None,
) -> None:
    """Register ``POST rule`` on ``blp``: parse ``schema``, authorize ``what`` (or what
    the body says it is, e.g. a note's kind), run ``handler``."""

    def view(data: dict[str, Any], pid: UUID, **path: str) -> Response:
        fields = prepare(data, path) if prepare else {**data, **path}
        patient_id = str(pid)
        return write(
            what(data) if callable(what) else what,
            patient_id,
            lambda ctx, version: handler(ctx, patient_id, version, fields),
        )

    view.__name__ = endpoint
    view.__doc__ = summary
    decorated = blp.errors(400, 404, 412, 422)(view)
    decorated = blp.write_response()(decorated)
    decorated = blp.arguments(schema)(decorated)
    blp.route(rule, methods=["POST"], endpoint=endpoint)(decorated)


def dates_to_iso(*names: str) -> Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]:
    """Dates parsed by the schema go to the domain as ISO strings."""

    def prepare(data: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
        out = {**data, **path}
        for name in names:
            if out.get(name) is not None:
                out[name] = out[name].isoformat()
        return out

    return prepare
