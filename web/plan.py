"""The plan (now, as known at T, in effect at T) and the patient's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.plan import PlanState
from services.access.privacy import redact_event, restricted_note_ids
from services.reading.history import public_event_types
from services.reading.plan_document import plan_document
from web.blueprint import READ_ETAG, CareLogBlueprint
from web.context import (
    actor,
    answer_patient_read,
    carelog,
    policy,
    request_info,
    wait_for_views,
)
from web.errors import MalformedError, is_cursor
from web.schemas.plan_out import PlanOut
from web.schemas.read_queries import HistoryQuery, PlanQuery
from web.schemas.record_out import HistoryOut
from web.two_clocks import under_two_clocks

blp = CareLogBlueprint(
    "plan",
    __name__,
    url_prefix="/api/v1/patients",
    description="The plan under both clocks, and the full history.",
)


@blp.read("/<uuid:pid>/plan", PlanQuery, PlanOut, 400, 404, 503, headers=READ_ETAG)
def get_plan(args: dict[str, Any], pid: UUID) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The plan now; ``as_of`` = as known then; ``effective_at`` = in effect then (both:
    what was known at ``as_of`` about what was in effect at ``effective_at``)."""

    def document_of(state: PlanState, version: int, viewed: datetime) -> dict[str, Any] | None:
        return plan_document(state, str(pid), version, viewed) if state.patient else None

    document = answer_patient_read(
        str(pid), "plan", args, lambda access: under_two_clocks(access, str(pid), args, document_of)
    )
    return document, 200, {"ETag": f'"{document["version"]}"'}


@blp.read("/<uuid:pid>/history", HistoryQuery, HistoryOut, 400, 404, 503, headers=READ_ETAG)
def get_history(args: dict[str, Any], pid: UUID) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Every event in order with recorded and effective times and its actor; a
    psychotherapy note shows as a marker to everyone but its author."""
    who, info = actor(), request_info()
    access = policy().check_read(who, str(pid), "history", info)
    cursor = args.get("cursor")
    if cursor is not None and not is_cursor(cursor):
        raise MalformedError("Unknown cursor: use next_cursor from a previous page.", "cursor")
    wait_for_views(args)
    types = [t.strip() for t in (args.get("type") or "").split(",") if t.strip()]
    known = public_event_types()
    unknown = [t for t in types if t not in known]
    if unknown:  # else an empty 200, as if the patient had no such entries
        raise MalformedError(
            f"Unknown event type {', '.join(unknown)}; valid types: {', '.join(known)}.", "type"
        )
    events, next_version = carelog().history.timeline(
        str(pid),
        since=args.get("since"),
        until=args.get("until"),
        types=types,
        after_version=int(cursor or 0),
        limit=args["limit"],
        clock=args["clock"],
    )
    restricted, version = access.read(lambda r: (restricted_note_ids(r.plan, who), r.version))
    shown = []
    for event in events:
        event = redact_event(event, restricted)
        event["late_entry"] = (event["recorded_at"] - event["effective_at"]).total_seconds() > 3600
        shown.append(event)
    policy().record_read(who, str(pid), "history", info, access)
    next_cursor = str(next_version) if next_version is not None else None
    return {"events": shown, "next_cursor": next_cursor}, 200, {"ETag": f'"{version}"'}
