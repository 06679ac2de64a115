"""The team dashboard: the signed-in clinician's patients, most urgent first, live.

The page opens the role's server-sent-event feed (``/api/v1/feed/stream``, authenticated
by the session cookie) from the log position it was rendered at; on each event the script
fetches ``/dashboard/rows?min_position=<event's position>``, which waits (bounded) for the
views to reach that position, so the rows it returns already include the change.
Each render records one dashboard read per patient shown, as the API's dashboard does.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from domain.actor import Actor
from services.access.policy import RequestInfo
from services.feeds.feed_contract import CONTRACT
from web.context import (
    carelog,
    log_read,
    reader_of,
    wait_for_views,
)
from web.errors import is_cursor
from web.pages.blueprint import bp
from web.pages.team_pages import render_team_page


def stream_types(role: str) -> list[str]:
    """The CloudEvents types the role's feed carries: the script listens for each."""
    return sorted({f.type for f in CONTRACT if role in f.roles})


def board_for(who: Actor, info: RequestInfo) -> dict[str, Any]:
    instance = carelog()
    board: dict[str, Any] = instance.views.team_dashboard.for_clinician(who.id)
    for row in board["patients"]:
        log_read(who, info, row["patient_id"], "dashboard")
    return board


@bp.get("/dashboard")
def dashboard() -> Any:
    # The feed starts at the head (``after``): the board includes everything up to it.
    return render_team_page(
        "dashboard",
        "pages/dashboard.html",
        lambda who, info: {"board": board_for(who, info), "types": stream_types(str(who.role))},
    )


@bp.get("/dashboard/rows")
def dashboard_rows() -> Any:
    """The board's rows alone, for the live update (waits for ``min_position``)."""
    who, info = reader_of("dashboard")
    position = request.args.get("min_position", "")
    wait_for_views({"min_position": int(position) if is_cursor(position) else None})
    return render_template("pages/_board.html", board=board_for(who, info))
