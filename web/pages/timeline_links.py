"""Links to the timeline that keep its view: the point in time, the entry filter and
order, and the chart's range. Changing one of them keeps the others."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

VIEW_DEFAULTS: dict[str, Any] = {
    "as_of": None,
    "kind": [],
    "clock": "recorded",
    "order": "newest",
    "range": "all",
}
"""The timeline's view settings as a plain link leaves them (none is written out)."""


def link_to(patient_id: str, current: dict[str, Any]) -> Callable[..., str]:
    """Links to this timeline that keep the view as it is but for what they change (the
    chart's range survives a new point in time or filter, and the other way round)."""

    def link(**changes: Any) -> str:
        view = {**current, **changes}
        query: list[tuple[str, Any]] = []
        for name, default in VIEW_DEFAULTS.items():
            value = view.get(name)
            if value is None or value == default:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            query += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        return f"/patients/{patient_id}" + (f"?{urlencode(query)}" if query else "")

    return link
