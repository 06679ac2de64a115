"""The current-plan view: per patient, what the care team works from right now.

Active medications (dose, frequency, since, last change, prescriber), the latest PHQ-9 /
GAD-7 / clinical assessment with its trend, open safety alerts, goals, scheduled follow-ups
(overdue is decided when read, from the due time), consents and the active care team.
Rows are the plan document per patient (see ``plan_states`` for how the fold is kept
between batches) plus the active care-team members, so ``patients_for`` is one indexed
query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from projections import plan_states
from projections.feed import Item
from projections.plan_document import document, present
from projections.plan_states import PlanStates
from projections.sql.database import Cursor, Database
from projections.view import Tables, View, fast_compression

PLAN = "current_plan"
MEMBER = "current_plan_member"
PLAN_COLUMNS = (
    "patient_id",
    "external_id",
    "name",
    "birth_date",
    "version",
    "position",
    "document",
)


class CurrentPlanView(View):
    """Each patient's plan as of the last event the view has applied."""

    name = "current_plan"
    schema_version = 2
    tables = (PLAN, MEMBER)
    order = {PLAN: "patient_id", MEMBER: "patient_id, clinician_id"}  # noqa: RUF012

    def __init__(self, db: Database, states: PlanStates | None = None) -> None:
        super().__init__(db)
        self.states = states or PlanStates()

    def create_tables(self, cur: Cursor, t: Tables) -> None:
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[PLAN]} (
            patient_id TEXT PRIMARY KEY,
            external_id TEXT NOT NULL,
            name TEXT NOT NULL,
            birth_date TEXT,
            version INTEGER NOT NULL,
            position BIGINT NOT NULL,
            document TEXT NOT NULL)""")
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[MEMBER]} (
            patient_id TEXT NOT NULL,
            clinician_id TEXT NOT NULL,
            role TEXT NOT NULL,
            PRIMARY KEY (patient_id, clinician_id))""")
        fast_compression(cur, self.db, t[PLAN], "document")

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(MEMBER, 'clinician')}"
            f" ON {t[MEMBER]} (clinician_id)"
        )
        cur.execute(f"CREATE INDEX IF NOT EXISTS {t.index(PLAN, 'name')} ON {t[PLAN]} (name)")

    def project(self, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]) -> None:
        states = self.states.take(cur, t[PLAN], plan_states.touched(items))
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
                        patient.birth_date,
                        folded.version,
                        folded.position,
                        document(pid, folded, kinds),
                    )
                )
            cur.replace_rows(t[PLAN], "patient_id", PLAN_COLUMNS, rows)
            moved, members = plan_states.members(states, changed)
            if moved:
                where, params = cur.any_of("patient_id", moved)
                cur.execute(f"DELETE FROM {t[MEMBER]} WHERE {where}", params)
            if members:
                cur.insert_rows(t[MEMBER], ("patient_id", "clinician_id", "role"), members)
        self.states.keep(t[PLAN], states)

    def forget(self, t: Tables) -> None:
        self.states.forget(t[PLAN])

    # -- queries ---------------------------------------------------------------------------
    def get(self, patient_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The plan as ``GET /plan`` shows it, or None if the view has no such patient."""
        with self.db.read() as cur:
            row = cur.execute(
                f"SELECT version, position, document FROM {PLAN} WHERE patient_id = ?",
                (str(patient_id),),
            ).fetchone()
        if row is None:
            return None
        return present(
            json.loads(row["document"]),
            int(row["version"]),
            int(row["position"]),
            now or datetime.now(UTC),
        )

    def patients_for(self, clinician_id: str) -> list[dict[str, Any]]:
        """Patients on whose care team the clinician is an active member."""
        with self.db.read() as cur:
            return cur.execute(
                f"SELECT p.patient_id, p.external_id, p.name, p.birth_date FROM {MEMBER} m"
                f" JOIN {PLAN} p ON p.patient_id = m.patient_id WHERE m.clinician_id = ?"
                " ORDER BY p.name, p.patient_id",
                (clinician_id,),
            ).fetchall()

    def all_patients(self) -> list[dict[str, Any]]:
        with self.db.read() as cur:
            return cur.execute(
                f"SELECT patient_id, external_id, name, birth_date FROM {PLAN}"
                " ORDER BY name, patient_id"
            ).fetchall()

    def care_team(self, patient_id: str) -> list[dict[str, Any]]:
        """Active members (clinician_id, role): a cheap check for access decisions."""
        with self.db.read() as cur:
            return cur.execute(
                f"SELECT clinician_id, role FROM {MEMBER} WHERE patient_id = ?"
                " ORDER BY clinician_id",
                (str(patient_id),),
            ).fetchall()
