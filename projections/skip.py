"""Skipping a quarantined item: an operator's decision, recorded in the audit trail.

The view's position moves past the item and the quarantine row says who skipped it, when
and why, in one transaction together with the access-log entry the audit trail shows
(``projections.skip``): the access log lives in the same database as the views.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from domain.errors import InvalidInputError, NotFoundError
from projections import tracking
from projections.feed import AccessSource
from projections.sql.database import Database


def skip_quarantined(
    db: Database,
    access: AccessSource | None,
    name: str,
    position: int,
    reason: str,
    actor: Any,
    source: str,
) -> dict[str, Any]:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInputError("Say why the event is skipped (--reason).", "reason")
    actor_id = getattr(actor, "id", None) or str(actor)
    actor_role = str(getattr(actor, "role", "operator"))
    with db.transaction() as cur:
        row = cur.execute(
            "SELECT stream, topic, patient_id FROM view_quarantine"
            " WHERE name = ? AND position = ? AND status = 'open'"
            " ORDER BY stream",
            (name, position),
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"{name} has no quarantined item at position {position}.", "position"
            )
        stream = row["stream"]
        if tracking.lock_position(cur, db.dialect, name, stream) >= position:
            raise InvalidInputError(f"{name} is past position {position} already.", "position")
        tracking.set_position(cur, name, stream, position)
        cur.execute(
            "UPDATE view_quarantine SET status = 'skipped', resolved_by = ?,"
            " reason = ?, resolved_at = ? WHERE name = ? AND stream = ?"
            " AND position = ?",
            (actor_id, reason, tracking.now_text(), name, stream, position),
        )
        if access is not None:  # the same database: this entry lands in this transaction
            access.record(
                actor_id=actor_id,
                actor_role=actor_role,
                patient_id=row["patient_id"],
                what="projections.skip",
                request_id=str(uuid4()),
                source=source,
                allowed=True,
                reason=reason,
                kind="operator",
                details={
                    "view": name,
                    "stream": stream,
                    "position": position,
                    "topic": row["topic"],
                },
            )
    return {
        "view": name,
        "stream": stream,
        "position": position,
        "skipped_by": actor_id,
        "reason": reason,
    }
