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
from datetime import UTC, datetime
from typing import Any

from projections.plan_document import document, present
from projections.plan_states import Folded
from projections.plan_view import CareTeamView
from projections.sql.database import Cursor
from projections.view import Tables

PLAN = "current_plan"
MEMBER = "current_plan_member"


class CurrentPlanView(CareTeamView):
    """Each patient's plan as of the last event the view has applied."""

    name = "current_plan"
    schema_version = 2
    tables = (PLAN, MEMBER)
    patient_columns = ("external_id", "name", "birth_date")
    document_column = "document"

    def render(self, patient_id: str, folded: Folded, kinds: list[str]) -> str:
        return document(patient_id, folded, kinds)

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        super().create_indexes(cur, t)
        cur.execute(f"CREATE INDEX IF NOT EXISTS {t.index(PLAN, 'name')} ON {t[PLAN]} (name)")

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
