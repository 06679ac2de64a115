"""Paging through the audit trail: filters, the two orders and their cursors.

The default order is the trail's own sequence (the order CareLog learned of each entry),
so a cursor is the last id seen and stays valid however many entries arrive later. For
``flagged_first`` the cursor also says which part (flagged, then the rest) the last entry
was in: ``2 * id + 1`` while still among the flagged entries, ``2 * id`` after them.
``newest_first`` and ``flagged_first_newest`` are the same two orders read backwards (the
newest entry first), as a reviewer reads them; their cursors work the same way.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from projections.sql.database import Database

ORDERS = ("recorded", "flagged_first", "newest_first", "flagged_first_newest")


def entries(
    db: Database,
    table: str,
    *,
    patient_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    after: int | None,
    limit: int,
    order: str,
) -> tuple[list[dict[str, Any]], int | None]:
    if order not in ORDERS:
        raise ValueError(f"unknown audit order {order!r}: use one of {', '.join(ORDERS)}")
    limit = max(1, min(int(limit), 1000))
    where: list[str] = []
    params: list[Any] = []
    for column, value in (("patient_id", patient_id), ("actor_id", actor_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if action:
        if action.endswith("*"):
            where.append("action LIKE ? ESCAPE '\\'")
            params.append(action[:-1].replace("%", r"\%").replace("_", r"\_") + "%")
        else:
            where.append("action = ?")
            params.append(action)
    if since is not None:
        where.append("at >= ?")
        params.append(since)
    if until is not None:
        where.append("at <= ?")
        params.append(until)
    newest = order in ("newest_first", "flagged_first_newest")
    beyond, direction = ("<", " DESC") if newest else (">", "")
    if order in ("recorded", "newest_first"):
        if after is not None:
            where.append(f"id {beyond} ?")
            params.append(after)
        sort = f"id{direction}"
    else:
        if after is not None:
            last, in_flagged = divmod(after, 2)
            if in_flagged:
                where.append(f"((flagged = 1 AND id {beyond} ?) OR flagged = 0)")
            else:
                where.append(f"(flagged = 0 AND id {beyond} ?)")
            params.append(last)
        sort = f"flagged DESC, id{direction}"
    sql = f"SELECT * FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {sort} LIMIT ?"
    params.append(limit + 1)
    with db.read() as cur:
        rows = cur.execute(sql, params).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor: int | None = None
    if more:
        last_row = rows[-1]
        cursor = int(last_row["id"])
        if order in ("flagged_first", "flagged_first_newest"):
            cursor = 2 * cursor + int(bool(last_row["flagged"]))
    return [_entry(r) for r in rows], cursor


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "kind": row["kind"],
        "position": int(row["source_position"]),
        "action": row["action"],
        "actor": {"id": row["actor_id"], "role": row["actor_role"]},
        "at": _time(row["at"]),
        "effective_at": _time(row["effective_at"]),
        "patient_id": row["patient_id"],
        "request_id": row["request_id"],
        "source": row["source"],
        "allowed": bool(row["allowed"]),
        "flagged": bool(row["flagged"]),
        "details": json.loads(row["details"]),
    }
