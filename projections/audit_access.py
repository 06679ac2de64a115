"""Which writes the audit trail flags as made under emergency access.

A write is flagged when its author held an unexpired emergency grant on the patient and
was not on the care team at the time. Grants are rare, so a batch loads only the grants
of its patients; membership is looked up only for an author who holds one. Both are kept
in the audit-trail view's own tables (in log order), so a rebuild flags exactly the same
rows as incremental processing did. A flagged write's entry names the grant it was made
under (its stated reason and expiry), for the reviewer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from projections.plan_states import iso
from projections.sql.database import Cursor
from projections.view import Tables

GRANTS = "audit_grant"
MEMBERS = "audit_member"
TABLES = (GRANTS, MEMBERS)


def create(cur: Cursor, t: Tables) -> None:
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[GRANTS]} (
        patient_id TEXT NOT NULL,
        clinician_id TEXT NOT NULL,
        until TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (patient_id, clinician_id))""")
    cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[MEMBERS]} (
        patient_id TEXT NOT NULL,
        clinician_id TEXT NOT NULL,
        member INTEGER NOT NULL,
        PRIMARY KEY (patient_id, clinician_id))""")


class EmergencyAccess:
    """Grants and memberships as of the event being projected, within one batch."""

    def __init__(self, cur: Cursor, t: Tables, patient_ids: set[str]) -> None:
        self.cur = cur
        self.t = t
        where, params = cur.any_of("patient_id", sorted(patient_ids))
        rows = (
            cur.execute(
                f"SELECT patient_id, clinician_id, until, reason FROM {t[GRANTS]} WHERE {where}",
                params,
            ).fetchall()
            if patient_ids
            else []
        )
        self.grants: dict[tuple[str, str], tuple[str, str | None]] = {
            (r["patient_id"], r["clinician_id"]): (r["until"], r["reason"]) for r in rows
        }
        self.members: dict[tuple[str, str], bool] = {}
        self.changed_grants: set[tuple[str, str]] = set()
        self.changed_members: set[tuple[str, str]] = set()

    def flagged(self, patient_id: str, actor_id: str, at: datetime) -> bool:
        return self.grant_used(patient_id, actor_id, at) is not None

    def grant_used(self, patient_id: str, actor_id: str, at: datetime) -> dict[str, Any] | None:
        """The grant (reason, expiry) a write at ``at`` was made under, or None when the
        author held none or was on the care team anyway."""
        key = (patient_id, actor_id)
        grant = self.grants.get(key)
        if grant is None or grant[0] <= (iso(at) or "") or self._member(key):
            return None
        return {"reason": grant[1], "expires_at": grant[0]}

    def _member(self, key: tuple[str, str]) -> bool:
        if key not in self.members:
            row = self.cur.execute(
                f"SELECT member FROM {self.t[MEMBERS]} WHERE patient_id = ? AND clinician_id = ?",
                key,
            ).fetchone()
            self.members[key] = bool(row and row["member"])
        return self.members[key]

    def apply(self, patient_id: str, kind: str, event: Any) -> None:
        if kind in ("CareTeamMemberAssigned", "CareTeamMemberRemoved"):
            key = (patient_id, event.clinician_id)
            self.members[key] = kind == "CareTeamMemberAssigned"
            self.changed_members.add(key)
        elif kind == "EmergencyAccessGranted":
            key = (patient_id, event.actor_id)
            self.grants[key] = (iso(event.expires_at) or "", getattr(event, "reason", None))
            self.changed_grants.add(key)

    def store(self) -> None:
        keys = ("patient_id", "clinician_id")
        if self.changed_members:
            self.cur.replace_rows(
                self.t[MEMBERS],
                keys,
                (*keys, "member"),
                [(p, c, int(self.members[(p, c)])) for p, c in sorted(self.changed_members)],
            )
        if self.changed_grants:
            self.cur.replace_rows(
                self.t[GRANTS],
                keys,
                (*keys, "until", "reason"),
                [(p, c, *self.grants[(p, c)]) for p, c in sorted(self.changed_grants)],
            )
