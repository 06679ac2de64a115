"""Domain errors: one base class, each with a message a clinician understands.

They are mapped to HTTP in one place (``web/errors.py``); the ``field`` says which input
was at fault so that an API client can show the message next to it.
"""

from __future__ import annotations


class CareLogError(Exception):
    """Base of every CareLog domain error."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def errors(self) -> dict[str, list[str]]:
        """Field-level messages, as problem+json ``errors`` carries them."""
        return {self.field: [self.message]} if self.field else {}


class InvalidInputError(CareLogError):
    """Well-formed input that is clinically or logically invalid (HTTP 422)."""


class NotFoundError(CareLogError):
    """The patient, order, alert or other entity named does not exist (HTTP 404)."""


class DuplicateError(CareLogError):
    """The thing exists already, e.g. a second registration of one external id (HTTP 409)."""


class VersionConflictError(CareLogError):
    """The record moved on since the caller read it (optimistic concurrency, HTTP 412)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"The record is at version {actual}, not {expected}: reload it and try again.",
            field=None,
        )
        self.expected: int | None = expected
        self.actual: int | None = actual


class WriteContentionError(VersionConflictError):
    """So many others wrote to the record at once that a command ran out of retries."""

    def __init__(self, attempts: int) -> None:
        CareLogError.__init__(
            self,
            f"Others kept writing to this record while your entry was being saved "
            f"({attempts} attempts): nothing was recorded; please try again.",
        )
        self.expected = None
        self.actual = None
        self.attempts = attempts


class NotPermittedError(CareLogError):
    """The actor's role or care-team standing does not allow this (HTTP 403)."""


class SafetyBlockError(CareLogError):
    """A contraindicated combination was refused; a prescriber may override with a reason."""

    def __init__(self, message: str, alerts: list[dict[str, object]]) -> None:
        super().__init__(message, field="override_reason")
        self.alerts = alerts


class RecordErasedError(CareLogError):
    """The patient's record was erased (its data key destroyed): its events stay in the
    log, unreadable (HTTP 410 Gone)."""

    def __init__(self, patient_id: str, on: str, reason: str, erased_at: str = "") -> None:
        super().__init__(f"Record erased on {on}: {reason}", field=None)
        self.patient_id = patient_id
        self.on = on
        self.reason = reason
        self.erased_at = erased_at
