"""How far behind each view is, for ``/readyz`` and ``carelog projections status``.

Lag in events is the log's head minus the view's position (PostgreSQL ids may have gaps
from rolled-back writes, so mid-catch-up it can overstate by those). Lag in seconds is how
long the oldest unprocessed entry has waited, bounded by the time since the view last
reached the head: 0 when caught up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from projections import tracking
from projections.feed import EVENTS, Feed
from projections.sql.database import Database
from projections.view import View


def _lag_seconds(feed: Feed, position: int, synced_at: str | None, now: datetime) -> float:
    bounds: list[float] = []
    if synced_at:
        bounds.append((now - datetime.fromisoformat(synced_at)).total_seconds())
    try:
        oldest = feed.recorded_at(position + 1)
    except Exception:  # status must answer even when the log cannot
        oldest = None
    if oldest is not None:
        bounds.append((now - oldest).total_seconds())
    return round(max(min(bounds), 0.0), 3) if bounds else -1.0


def view_status(
    db: Database,
    views: Mapping[str, View],
    feeds: Mapping[str, Feed],
    runner_error: str | None,
    listener_error: str | None,
) -> list[dict[str, Any]]:
    heads = {stream: feed.head() for stream, feed in feeds.items()}
    found = tracking.positions(db, list(views))
    quarantined: dict[str, list[dict[str, Any]]] = {}
    for item in tracking.open_quarantines(db):
        quarantined.setdefault(item.view, []).append(item.as_dict())
    now = datetime.now(UTC)
    out = []
    for name, view in views.items():
        streams: dict[str, dict[str, Any]] = {}
        for stream in view.streams:
            if stream not in feeds:
                continue
            position, synced_at = found.get((name, stream), (0, None))
            lag = max(heads[stream] - position, 0)
            streams[stream] = {
                "position": position,
                "head": heads[stream],
                "lag_events": lag,
                "lag_seconds": 0.0
                if lag == 0
                else _lag_seconds(feeds[stream], position, synced_at, now),
            }
        events = streams.get(EVENTS, {"position": 0, "head": 0})
        stuck = quarantined.get(name, [])
        lag_events = sum(s["lag_events"] for s in streams.values())
        out.append(
            {
                "name": name,
                "position": events["position"],
                "head": events["head"],
                "lag_events": lag_events,
                "lag_seconds": max((s["lag_seconds"] for s in streams.values()), default=0.0),
                "state": "quarantined" if stuck else ("caught_up" if lag_events == 0 else "behind"),
                "quarantined": stuck,
                "streams": streams,
                "runner_error": runner_error,
                "listener_error": listener_error,
            }
        )
    return out
