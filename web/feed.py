"""The HTTP feeds: a cursor-paged JSON feed and a live server-sent-event stream of the
CloudEvents the caller's role may see, for patients on the caller's care teams. Every
delivery is recorded in the access log: a page as one entry per patient (the messages'
types and positions in its details), a stream message by message.

The live stream re-checks its caller before each delivery and at least every few seconds
(services/feeds/feed.py): it closes once the token is revoked or rotated, the account is
deactivated, the page session is signed out, or the caller leaves one of the care teams
it was following (and right after delivering the caller's own removal). A client that
reconnects with ``Last-Event-ID`` gets what it may still see."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, g, request, stream_with_context

from domain.actor import Actor
from services.access.policy import RequestInfo
from services.bootstrap import CareLog
from web.blueprint import LAST_EVENT_ID, CareLogBlueprint
from web.context import actor, carelog, policy, request_info
from web.errors import MalformedError, is_cursor
from web.schemas.feed_out import FeedOut
from web.schemas.read_queries import FeedQuery

blp = CareLogBlueprint(
    "feed", __name__, url_prefix="/api/v1", description="Plan changes as CloudEvents 1.0, by role."
)
HEARTBEAT_SECONDS = 15.0


def _patient_ids(instance: CareLog, who: Actor) -> set[str]:
    return {p["patient_id"] for p in instance.views.current_plan.patients_for(who.id)}


def _record_delivery(
    instance: CareLog, who: Actor, info: RequestInfo, item: dict[str, Any]
) -> None:
    instance.access_log.record(
        actor_id=who.id,
        actor_role=str(who.role),
        patient_id=item.get("subject"),
        what=f"feed:{item.get('type')}",
        request_id=info.request_id,
        source=info.source,
    )


@blp.read("/feed", FeedQuery, FeedOut, 400)
def feed(args: dict[str, Any]) -> dict[str, Any]:
    """CloudEvents after a log position; ``next_after`` is the cursor for the next page."""
    who, info = actor(), request_info()
    policy().require_read_kind(who, "feed", info)
    instance = carelog()
    items, next_after = instance.feed.page(
        role=str(who.role),
        patient_ids=_patient_ids(instance, who),
        after=args["after"],
        limit=args["limit"],
    )
    _record_page(instance, who, info, items)
    return {"items": items, "next_after": next_after}


def _record_page(
    instance: CareLog, who: Actor, info: RequestInfo, items: list[dict[str, Any]]
) -> None:
    """One access-log entry per patient a page delivered, naming how many messages of which
    types and their log positions, all in one transaction: a page of 1000 messages is a
    few dozen rows, not a thousand writes (red-team F6)."""
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_patient.setdefault(str(item.get("subject")), []).append(item)
    entries = []
    for patient_id, delivered in by_patient.items():
        types: dict[str, int] = {}
        for item in delivered:
            types[str(item.get("type"))] = types.get(str(item.get("type")), 0) + 1
        positions = [(i.get("data") or {}).get("position") for i in delivered]
        entries.append(
            {
                "actor_id": who.id,
                "actor_role": str(who.role),
                "patient_id": patient_id,
                "what": "feed",
                "request_id": info.request_id,
                "source": info.source,
                "details": {"messages": len(delivered), "types": types, "positions": positions},
            }
        )
    if entries:
        instance.access_log.record_many(entries)


@blp.route("/feed/stream", methods=["GET"])
@blp.response(
    200,
    description="text/event-stream of CloudEvents; resume with Last-Event-ID",
    content_type="text/event-stream",
)
@blp.errors(400)
@blp.doc(
    parameters=[
        LAST_EVENT_ID,
        {
            "in": "query",
            "name": "after",
            "required": False,
            "description": "Start after this log position when there is no Last-Event-ID.",
            "schema": {"type": "integer", "minimum": 0},
        },
    ]
)
def stream() -> Response:
    """Live server-sent events (``id`` = log position, heartbeats as comments)."""
    who, info = actor(), request_info()
    policy().require_read_kind(who, "feed", info)
    last = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    if not is_cursor(last):
        raise MalformedError("Last-Event-ID must be a log position.", "Last-Event-ID")
    instance = carelog()
    stop = threading.Event()
    allowed = _still_allowed(instance, who, g.get("still_signed_in"))

    def events() -> Iterator[str]:
        yield "retry: 1000\n\n"
        with _open_lock:
            _open_streams.add(stop)
        try:
            for item in instance.feed.follow(
                role=str(who.role),
                patient_ids_fn=lambda: _patient_ids(instance, who),
                after=int(last),
                stop=stop,
                heartbeat=HEARTBEAT_SECONDS,
                allowed=allowed,
            ):
                if item is None:
                    yield ": heartbeat\n\n"
                    continue
                _record_delivery(instance, who, info, item)
                position = item.get("data", {}).get("position", "")
                yield f"id: {position}\nevent: {item['type']}\ndata: {json.dumps(item)}\n\n"
                if _removes(item, who):
                    return  # the caller's own removal is the last thing this stream shows
        finally:
            stop.set()
            with _open_lock:
                _open_streams.discard(stop)

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


_open_streams: set[threading.Event] = set()
_open_lock = threading.Lock()


def end_open_streams() -> None:
    """The server is stopping (Ctrl-C): every open stream ends at its next stop check,
    so the worker's threads finish and the process exits at once, instead of waiting for
    each open page's stream until gunicorn's graceful timeout (30 s) kills it."""
    with _open_lock:
        for stop in _open_streams:
            stop.set()


REMOVED = "carelog.care-team.member-removed.v1"


def _removes(item: dict[str, Any], who: Actor) -> bool:
    return bool(
        item.get("type") == REMOVED and (item.get("data") or {}).get("clinician_id") == who.id
    )


def _still_allowed(
    instance: CareLog, who: Actor, signed_in: Callable[[], bool] | None
) -> Callable[[], bool]:
    """Is the caller still signed in, and still on every care team the stream followed?"""
    following = _patient_ids(instance, who)

    def allowed() -> bool:
        nonlocal following
        if signed_in is not None and not signed_in():
            return False
        now = _patient_ids(instance, who)
        if following - now:
            return False
        following = now
        return True

    return allowed
