"""Declares the simple write endpoints: body schema → command, with the same HTTP
conventions everywhere (see ``web.writes``), one ``Write`` row each. A command with more to
it gets its own handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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
What = str | Callable[[dict[str, Any]], str]
Prepare = Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]
C = TypeVar("C")

WRITE_ERRORS = (400, 404, 412, 422)
"""The problems a write on a patient's record may answer (malformed, no such patient or
entity, If-Match moved on, clinically invalid)."""


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


@dataclass(frozen=True)
class Write:
    """One write endpoint on a patient's record: ``POST /<uuid:pid>{path}`` parses
    ``schema``, authorizes ``what`` and runs the command ``cls`` (its fields: the body's and
    the path's, or what ``prepare`` makes of them). The endpoint is named for the command
    (``RecordConsent``: ``record_consent``) unless ``endpoint`` names it."""

    cls: type[RecordCommand]
    path: str
    schema: type
    what: What
    summary: str
    prepare: Prepare | None = None
    codes: tuple[int, ...] = WRITE_ERRORS
    endpoint: str | None = None

    @property
    def endpoint_name(self) -> str:
        return self.endpoint or re.sub(r"(?<!^)(?=[A-Z])", "_", self.cls.__name__).lower()


def add_writes(blp: CareLogBlueprint, *writes: Write) -> CareLogBlueprint:
    """Register each of ``writes`` on ``blp``, in order (the OpenAPI document's order)."""
    for row in writes:
        _add_write(blp, row)
    return blp


def _add_write(blp: CareLogBlueprint, row: Write) -> None:
    """Register ``row``: parse its schema, authorize its ``what`` (or what the body says it
    is, e.g. a note's kind), run its command."""
    handler = command(row.cls)

    def view(data: dict[str, Any], pid: UUID, **path: str) -> Response:
        fields = row.prepare(data, path) if row.prepare else {**data, **path}
        patient_id = str(pid)
        return write(
            row.what(data) if callable(row.what) else row.what,
            patient_id,
            lambda ctx, version: handler(ctx, patient_id, version, fields),
        )

    view.__name__ = row.endpoint_name
    view.__doc__ = row.summary
    blp.write(f"/<uuid:pid>{row.path}", row.schema, *row.codes, endpoint=row.endpoint_name)(view)
