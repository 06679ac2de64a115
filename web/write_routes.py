"""Declares the simple clinical write endpoints: body schema → command, with the same
HTTP conventions everywhere (see ``web.writes``). A command with more to it gets its own
handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from flask import Response

from domain.command_context import CommandContext
from domain.commands import RecordCommand
from domain.dose import Dose
from services.writing.application import WriteResult
from web.blueprint import CareLogBlueprint
from web.context import carelog
from web.writes import write

Handler = Callable[[CommandContext, str, int | None, dict[str, Any]], WriteResult]
C = TypeVar("C")


def typed_command(cls: type[C], fields: dict[str, Any]) -> C:
    """The command ``cls`` built from what the schema loaded (and the path): a dose as a
    ``Dose``; every other value is as the schema typed it."""
    values = {
        name: Dose(value["amount"], value["unit"]) if name == "dose" else value
        for name, value in fields.items()
    }
    return cls(**values)


def command(cls: type[RecordCommand]) -> Handler:
    """A handler building a command of class ``cls`` and running it; a body's
    ``override_reason`` goes with the command, not in it."""

    def run(
        ctx: CommandContext, pid: str, version: int | None, fields: dict[str, Any]
    ) -> WriteResult:
        values = dict(fields)
        override = values.pop("override_reason", None)
        return carelog().commands.execute(
            ctx,
            pid,
            typed_command(cls, values),
            expected_version=version,
            override_reason=override,
        )

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
    blp.write(rule, schema, 400, 404, 412, 422, endpoint=endpoint)(view)
