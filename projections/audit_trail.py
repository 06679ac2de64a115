"""The audit-trail view: one row per event and per access-log entry, append-only.

Two logs feed it: the patient log (every clinical write) and the access log (every read,
every denied attempt, operator actions such as skipping a quarantined event). Each row
says who (id, role), what, which patient, when recorded, when effective, from where and
the request id; ``UNIQUE (kind, source_position)`` makes "exactly one row per entry" a
constraint rather than a hope. Emergency access is flagged for review: the grant itself,
the reads done under it (flagged by the access log's writer), and writes made under it
(the actor held an unexpired grant but was not on the care team). Each of these names the
grant in its details (``emergency_access``: the stated reason and the expiry), so a
reviewer sees why the glass was broken beside everything done through it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.plan import event_type
from projections import audit_access as emergency
from projections.audit_details import access_details, event_details
from projections.audit_query import entries as query_entries
from projections.feed import ACCESS, EVENTS, Item
from projections.plan_states import dumps, iso
from projections.sql.database import Cursor
from projections.view import Tables, View, serial_key

TRAIL = "audit_trail"
TRAIL_COLUMNS = (
    "kind",
    "source_position",
    "action",
    "actor_id",
    "actor_role",
    "at",
    "effective_at",
    "patient_id",
    "request_id",
    "source",
    "allowed",
    "flagged",
    "details",
)
EVENT_SOURCE = "log"
"""Events do not record the channel (API, CLI) they came through; the request id links a
write to the web request log."""


def stamp(value: datetime | str | None) -> str | None:
    """A fixed-width UTC text time, so text order is time order in both databases."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return iso(value)


class AuditTrailView(View):
    """Who did and saw what, in the order CareLog learned of it."""

    name = "audit_trail"
    streams = (EVENTS, ACCESS)
    schema_version = 4  # 4: grants keep their reason; flagged entries name the grant
    tables = (TRAIL, *emergency.TABLES)
    order = {  # noqa: RUF012
        TRAIL: "kind, source_position",
        emergency.GRANTS: "patient_id, clinician_id",
        emergency.MEMBERS: "patient_id, clinician_id",
    }
    volatile = {TRAIL: frozenset({"id"})}  # noqa: RUF012 - insert order differs by build

    def create_tables(self, cur: Cursor, t: Tables) -> None:
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[TRAIL]} (
            id {serial_key(self.db)},
            kind TEXT NOT NULL,
            source_position BIGINT NOT NULL,
            action TEXT NOT NULL,
            actor_id TEXT,
            actor_role TEXT,
            at TEXT NOT NULL,
            effective_at TEXT,
            patient_id TEXT,
            request_id TEXT,
            source TEXT NOT NULL,
            allowed INTEGER NOT NULL,
            flagged INTEGER NOT NULL,
            details TEXT NOT NULL,
            UNIQUE (kind, source_position))""")
        emergency.create(cur, t)

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        for what, columns in (
            ("patient", "patient_id, id"),
            ("actor", "actor_id, id"),
            ("at", "at"),
        ):
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {t.index(TRAIL, what)} ON {t[TRAIL]} ({columns})"
            )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(TRAIL, 'flagged')}"
            f" ON {t[TRAIL]} (id) WHERE flagged = 1"
        )

    def project(self, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]) -> None:
        rows = self._access_rows(items) if stream == ACCESS else self._event_rows(cur, t, items)
        if rows:
            cur.insert_rows(t[TRAIL], TRAIL_COLUMNS, rows)

    # -- events ----------------------------------------------------------------------------
    def _event_rows(self, cur: Cursor, t: Tables, items: Sequence[Item]) -> list[tuple[Any, ...]]:
        events = [
            (i.position, i.patient_id, i.value())
            for i in items
            if i.patient_id is not None or i.error is not None
        ]
        if not events:
            return []
        access = emergency.EmergencyAccess(cur, t, {p for _, p, _ in events if p})
        rows = []
        for position, patient_id, event in events:
            assert patient_id is not None  # decode errors raised in value() above
            kind = event_type(event)
            details = event_details(kind, event)
            grant: dict[str, Any] | None
            if kind == "EmergencyAccessGranted":
                grant = {"reason": event.reason, "expires_at": iso(event.expires_at)}
            else:
                grant = access.grant_used(patient_id, event.actor_id, event.timestamp)
            if grant is not None:
                details["emergency_access"] = grant
            flagged = grant is not None
            access.apply(patient_id, kind, event)
            recorded = iso(event.timestamp)
            effective = (
                recorded if event.effective_at == event.timestamp else iso(event.effective_at)
            )
            rows.append(
                (
                    "event",
                    position,
                    kind,
                    event.actor_id,
                    event.actor_role,
                    recorded,
                    effective,
                    patient_id,
                    event.correlation_id,
                    EVENT_SOURCE,
                    1,
                    int(flagged),
                    dumps(details, sort_keys=True),
                )
            )
        access.store()
        return rows

    # -- accesses --------------------------------------------------------------------------
    @staticmethod
    def _access_rows(items: Sequence[Item]) -> list[tuple[Any, ...]]:
        rows = []
        for item in items:
            row = item.value()
            allowed = bool(row["allowed"])
            if row.get("kind", "read") != "read":
                action = row["what"]
            else:
                action = f"{'read' if allowed else 'denied'}:{row['what']}"
            extra = json.loads(row["details"]) if row.get("details") else None
            rows.append(
                (
                    "access",
                    item.position,
                    action,
                    row["actor_id"],
                    row["actor_role"],
                    stamp(row["at"]),
                    None,
                    row["patient_id"],
                    row["request_id"],
                    row["source"],
                    int(allowed),
                    int(bool(row["flagged"])),
                    dumps(access_details(row, extra), sort_keys=True),
                )
            )
        return rows

    # -- queries ---------------------------------------------------------------------------
    def entries(
        self,
        *,
        patient_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int | None = None,
        limit: int = 100,
        order: str = "recorded",
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of entries and the cursor for the next one (None at the end).

        ``order="recorded"`` (default): in the order CareLog learned of them; the cursor is
        the last entry's id. ``order="flagged_first"``: emergency-access entries first, then
        the rest; the cursor is an opaque number. ``action`` matches exactly, or by prefix
        when it ends with ``*`` (``read:*``, ``denied:*``).
        """
        return query_entries(
            self.db,
            TRAIL,
            patient_id=patient_id,
            actor_id=actor_id,
            action=action,
            since=stamp(since),
            until=stamp(until),
            after=after,
            limit=limit,
            order=order,
        )
