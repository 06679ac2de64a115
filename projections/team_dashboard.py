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
from projections.dashboard_ranking import KINDS, assess
from projections.dashboard_summary import summary_json
from projections.plan_states import Folded
from projections.plan_view import CareTeamView

BOARD = "team_dashboard"
MEMBER = "team_dashboard_member"


class TeamDashboardView(CareTeamView):
    """Open alerts, overdue follow-ups, recent changes, worsening scores, severe side
    effects and monitoring due, per patient, for the clinicians on the care team."""

    name = "team_dashboard"
    schema_version = 2
    tables = (BOARD, MEMBER)
    patient_columns = ("external_id", "name")
    document_column = "summary"

    def render(self, patient_id: str, folded: Folded, kinds: list[str]) -> str:
        return summary_json(patient_id, folded, kinds)

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
