"""The audit trail: per patient (care team and auditors) and across CareLog (auditors)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.access.policy import PatientAccess
from services.reading.history import public_event_types
from web.blueprint import CareLogBlueprint
from web.context import (
    answer_patient_read,
    carelog,
    log_read,
    reader_of,
)
from web.errors import MalformedError, is_cursor
from web.schemas.read_queries import ACCESS_PREFIXES, OPERATOR_ACTIONS, AllAuditQuery, AuditQuery
from web.schemas.record_out import AuditOut

blp = CareLogBlueprint(
    "audit",
    __name__,
    url_prefix="/api/v1",
    description="Who did and saw what: events, reads and denied attempts.",
)


def _cursor(args: dict[str, Any]) -> int | None:
    cursor = args.get("cursor")
    if cursor is None:
        return None
    if not is_cursor(cursor):
        raise MalformedError("Unknown cursor: use next_cursor from a previous page.", "cursor")
    return int(cursor)


def _action(args: dict[str, Any]) -> str | None:
    """The ``action`` filter, if it can match anything: an event type, ``read:WHAT`` or
    ``denied:WHAT`` (``read:*``, ``denied:*``), an operator action; ``*`` at the end
    matches by prefix. Anything else is a 400 listing them (an empty 200 would read as
    "nobody did that")."""
    action: str | None = args.get("action")
    if action is None:
        return None
    stem = action[:-1] if action.endswith("*") else action
    known = [*public_event_types(), *OPERATOR_ACTIONS]
    if action.startswith(ACCESS_PREFIXES) and len(action) > len(action.split(":")[0]) + 1:
        return action
    if action.endswith("*") and any(k.startswith(stem) for k in [*known, *ACCESS_PREFIXES]):
        return action
    if action in known:
        return action
    raise MalformedError(
        f"Unknown action {action!r}; valid actions: {', '.join(known)}, read:WHAT, "
        "denied:WHAT (read:* and denied:* for every read or denied attempt); end with * to "
        "match by prefix.",
        "action",
    )


def _page(entries: list[dict[str, Any]], next_cursor: Any) -> dict[str, Any]:
    return {
        "entries": entries,
        "next_cursor": str(next_cursor) if next_cursor is not None else None,
    }


@blp.read("/patients/<uuid:pid>/audit", AuditQuery, AuditOut, 400, 404, 503)
def patient_audit(args: dict[str, Any], pid: UUID) -> dict[str, Any]:
    """One patient's audit trail."""

    def trail(_: PatientAccess) -> dict[str, Any]:
        entries, next_cursor = carelog().views.audit_trail.entries(
            patient_id=str(pid),
            action=_action(args),
            since=args.get("since"),
            until=args.get("until"),
            after=_cursor(args),
            limit=args["limit"],
        )
        return _page(entries, next_cursor)

    return answer_patient_read(str(pid), "audit", args, trail)  # recorded once it is sent


@blp.read("/audit", AllAuditQuery, AuditOut, 400, 503)
def all_audit(args: dict[str, Any]) -> dict[str, Any]:
    """Every entry (auditors only); ``order=flagged_first`` puts emergency accesses first."""
    who, info = reader_of("audit_all", args)
    entries, next_cursor = carelog().views.audit_trail.entries(
        patient_id=args.get("patient_id"),
        actor_id=args.get("actor"),
        action=_action(args),
        since=args.get("since"),
        until=args.get("until"),
        after=_cursor(args),
        limit=args["limit"],
        order=args["order"],
    )
    log_read(who, info, args.get("patient_id"), "audit")
    return _page(entries, next_cursor)
