"""The team-dashboard view: each clinician's patients, most urgent first.

Per patient the view folds the record's events (to follow corrections and late entries
exactly as the record does; see ``plan_states``) and stores a small summary of dashboard
facts; per care-team member a row, so a clinician's patients are one indexed query.
Urgency is computed when read, because overdue follow-ups and "changed in the last 7
days" depend on the clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from domain.errors import InvalidInputError
from projections import plan_states
from projections.dashboard_ranking import KINDS, assess
from projections.dashboard_summary import summary_json
from projections.feed import Item
from projections.plan_states import PlanStates
from projections.sql.database import Cursor, Database
from projections.view import Tables, View, fast_compression

BOARD = "team_dashboard"
MEMBER = "team_dashboard_member"
BOARD_COLUMNS = ("patient_id", "external_id", "name", "version", "position", "summary")


class TeamDashboardView(View):
    """Open alerts, overdue follow-ups, recent changes, worsening scores, severe side
    effects and monitoring due, per patient, for the clinicians on the care team."""

    name = "team_dashboard"
    schema_version = 2
    tables = (BOARD, MEMBER)
    order = {BOARD: "patient_id", MEMBER: "patient_id, clinician_id"}  # noqa: RUF012

    def __init__(self, db: Database, states: PlanStates | None = None) -> None:
        super().__init__(db)
        self.states = states or PlanStates()

    def create_tables(self, cur: Cursor, t: Tables) -> None:
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[BOARD]} (
            patient_id TEXT PRIMARY KEY,
            external_id TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            position BIGINT NOT NULL,
            summary TEXT NOT NULL)""")
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[MEMBER]} (
            patient_id TEXT NOT NULL,
            clinician_id TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (patient_id, clinician_id))""")
        fast_compression(cur, self.db, t[BOARD], "summary")

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(MEMBER, 'clinician')}"
            f" ON {t[MEMBER]} (clinician_id)"
        )

    def project(self, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]) -> None:
        states = self.states.take(cur, t[BOARD], plan_states.touched(items))
        changed = plan_states.fold(states, items)
        if changed:
            rows = []
            for pid, kinds in changed.items():
                folded = states[pid]
                patient = folded.plan.patient
                rows.append(
                    (
                        pid,
                        patient.external_id,
                        patient.name,
                        folded.version,
                        folded.position,
                        summary_json(pid, folded, kinds),
                    )
                )
            cur.replace_rows(t[BOARD], "patient_id", BOARD_COLUMNS, rows)
            moved, members = plan_states.members(states, changed)
            if moved:
                where, params = cur.any_of("patient_id", moved)
                cur.execute(f"DELETE FROM {t[MEMBER]} WHERE {where}", params)
            if members:
                cur.insert_rows(t[MEMBER], ("patient_id", "clinician_id", "role"), members)
        self.states.keep(t[BOARD], states)

    def forget(self, t: Tables) -> None:
        self.states.forget(t[BOARD])

    # -- queries ---------------------------------------------------------------------------
    def for_clinician(
        self, clinician_id: str, kinds: Sequence[str] | None = None, now: datetime | None = None
    ) -> dict[str, Any]:
        """The clinician's patients with their reasons for attention, most urgent first
        (a suicide-risk item first of all). ``kinds`` narrows the reasons to those a role
        acts on (see ``dashboard_ranking.ROLE_KINDS``); suicide risk is always shown."""
        chosen = tuple(kinds) if kinds else KINDS
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise InvalidInputError(
                f"Unknown dashboard kind(s) {', '.join(unknown)}: use {', '.join(KINDS)}.", "kinds"
            )
        now = now or datetime.now(UTC)
        with self.db.read() as cur:
            rows = cur.execute(
                f"SELECT b.patient_id, b.name, b.external_id, b.summary, m.role FROM {MEMBER} m"
                f" JOIN {BOARD} b ON b.patient_id = m.patient_id WHERE m.clinician_id = ?",
                (clinician_id,),
            ).fetchall()
        patients = []
        for row in rows:
            facts = assess(json.loads(row["summary"]), chosen, now)
            patients.append(
                {
                    "patient_id": row["patient_id"],
                    "name": row["name"],
                    "external_id": row["external_id"],
                    "team_role": row["role"],
                    **facts,
                }
            )
        patients.sort(
            key=lambda p: (not p["suicide_risk"], -p["urgency"], p["name"], p["patient_id"])
        )
        return {
            "clinician_id": clinician_id,
            "kinds": list(chosen),
            "as_of": now,
            "patients": patients,
        }
