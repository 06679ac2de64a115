"""Reading a patient's plan under both clocks: as known at ``as_of``, in effect at
``effective_at``, or (neither given) now, from the current record under its lock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from domain.errors import NotFoundError
from domain.plan import PlanState
from services.access.policy import PatientAccess
from web.context import carelog

Answer = Callable[[PlanState, int, datetime], dict[str, Any] | None]
"""An answer built from the plan state, its version and the moment viewed; None while the
patient was not registered."""


def under_two_clocks(
    access: PatientAccess, pid: str, args: dict[str, Any], answer: Answer
) -> dict[str, Any]:
    """``answer`` for the plan the query's clocks name, with ``as_of`` and ``effective_at``
    added; NotFoundError before the patient was registered.

    Overdue follow-ups and alert ages are judged at the moment viewed, not today: a
    follow-up due the day after ``as_of`` was not overdue then."""
    as_of, effective = args.get("as_of"), args.get("effective_at")
    viewed = effective or as_of or datetime.now(UTC)
    history = carelog().history
    if effective is not None:
        rebuilt = history.in_effect_at(pid, effective, known_at=as_of)
        found = answer(rebuilt.state, rebuilt.version, viewed)
    elif as_of is not None:
        rebuilt = history.known_at(pid, as_of)
        found = answer(rebuilt.state, rebuilt.version, viewed)
    else:  # built from the current record under its lock
        found = access.read(lambda r: answer(r.plan, r.version, viewed))
    if found is None:
        raise NotFoundError("The patient was not registered yet at that time.", "as_of")
    found.update(as_of=as_of, effective_at=effective)
    return found
