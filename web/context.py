"""Per-request helpers: the signed-in actor, the request id, the parts of CareLog."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from domain.actor import Actor
from domain.command_context import CommandContext
from domain.errors import CareLogError
from services.access.policy import PatientAccess, Policy, RequestInfo
from services.bootstrap import CareLog
from web.errors import MalformedError, problem

T = TypeVar("T")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ViewsNotReadyError(CareLogError):
    """The views have not reached the position a client asked to read."""


def carelog() -> CareLog:
    return cast(CareLog, current_app.extensions["carelog"])


def policy() -> Policy:
    return cast(Policy, current_app.extensions["carelog_policy"])


def request_id() -> str:
    """This request's id, always CareLog's own: a client's ``X-Request-ID`` is never the
    audit's request id (anyone could name their request after another's), only kept
    beside it (``client_request_id``)."""
    if "request_id" not in g:
        g.request_id = str(uuid.uuid4())
    return cast(str, g.request_id)


def client_request_id() -> str | None:
    """The client's ``X-Request-ID`` when it is a plausible id (1-128 characters of
    letters, digits and ``._:-``); anything else is dropped, never stored."""
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else None


def request_info() -> RequestInfo:
    return RequestInfo(request_id=request_id(), source=request.remote_addr or "unknown")


def actor() -> Actor:
    return cast(Actor, g.actor)


def reader_of(kind: str, args: dict[str, Any] | None = None) -> tuple[Actor, RequestInfo]:
    """The caller and this request, once the policy lets the caller read ``kind`` (a
    refusal is logged and raised there) and, given the query's ``args``, once the views
    reach its ``min_position``: the opening of every list and dashboard read."""
    who, info = actor(), request_info()
    policy().require_read_kind(who, kind, info)
    if args is not None:
        wait_for_views(args)
    return who, info


def answer_patient_read(
    pid: str, kind: str, args: dict[str, Any], answer: Callable[[PatientAccess], T]
) -> T:
    """A read of one patient's ``kind``: granted by the policy (a refusal is logged and
    raised there), once the views reach the query's ``min_position``; ``answer`` builds it
    from the granted access, and the read is recorded once it is built (a read that finds
    nothing, e.g. no plan yet, is not)."""
    who, info = actor(), request_info()
    access = policy().check_read(who, pid, kind, info)
    wait_for_views(args)
    answered = answer(access)
    policy().record_read(who, pid, kind, info, access)
    return answered


def log_read(who: Actor, info: RequestInfo, patient_id: str | None, what: str) -> None:
    """One allowed read in the access log, as this caller and request made it (a list logs
    one for each patient it shows)."""
    log_access(who.id, str(who.role), patient_id, what, info)


def log_access(
    actor_id: str | None,
    actor_role: str | None,
    patient_id: str | None,
    what: str,
    info: RequestInfo,
    *,
    allowed: bool = True,
    reason: str | None = None,
) -> None:
    """One entry in the access log for this request: who (as far as known), what, and
    whether it was allowed (a refusal with its reason)."""
    carelog().access_log.record(
        actor_id=actor_id,
        actor_role=actor_role,
        patient_id=patient_id,
        what=what,
        request_id=info.request_id,
        source=info.source,
        allowed=allowed,
        reason=reason,
    )


def command_context() -> CommandContext:
    return CommandContext(actor=actor(), correlation_id=request_id(), now=datetime.now(UTC))


def wait_for_views(args: dict[str, Any]) -> None:
    """Read-your-writes: wait (bounded: ``views_wait_seconds``, 2 s by default) until the
    views reach ``min_position``."""
    position = args.get("min_position")
    if position is None or position <= 0:
        return
    head = carelog().app.recorder.max_notification_id() or 0
    if position > head:  # no wait can reach a position no write has returned
        raise MalformedError(
            f"min_position {position} is beyond the log's head ({head}): give a position a "
            "write returned.",
            "min_position",
        )
    views = getattr(carelog(), "views", None)
    if views is not None and not views.wait_for(position, timeout=views_wait()):
        raise ViewsNotReadyError(
            f"The views have not reached position {position} yet; retry shortly."
        )


def views_wait() -> float:
    """Seconds a read may wait for the views (``CARELOG_VIEWS_WAIT_SECONDS``)."""
    return carelog().config.views_wait_seconds


def not_ready_response(exc: ViewsNotReadyError) -> Any:
    response = problem(503, exc.message)
    response.headers["Retry-After"] = "1"
    return response
