"""The treatment-trials view: per patient, one row per medication trial.

Folds each patient's record with ``domain.plan.PlanState`` (through ``plan_states``, like
the current-plan view, so corrections and late entries move a trial exactly as they move
the record) and stores ``domain.trials.trials`` of the folded plan: clock-free facts
(start, stop, dose steps, baseline and scores). What depends on the clock for a trial
still running (days at an adequate dose, adequacy, resistance) is judged when read,
with ``domain.trial_outcomes``, the same functions the API's history answers use.
A per-patient row holds the record version and position the rows reflect and when the
current depressive episode began.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from domain.trial_outcomes import episode_start, judge, resistance
from domain.trial_shapes import PatientTrial
from domain.trial_storage import StoredTrial, trial_as_dict, trial_from_dict
from domain.trials import trials
from projections.plan_states import Folded, iso, revive
from projections.plan_view import PlanView
from projections.sql.database import Cursor
from projections.view import Tables

PATIENT = "treatment_trials_patient"
TRIAL = "treatment_trials"
PATIENT_COLUMNS = ("patient_id", "version", "position", "episode_started_at")
TRIAL_COLUMNS = (
    "patient_id",
    "trial_id",
    "drug",
    "drug_class",
    "started_at",
    "stopped_at",
    "document",
)
MOVES_TRIALS: dict[str, bool] = {
    "MedicationPrescribed": True,
    "DoseChanged": True,
    "MedicationDiscontinued": True,
    "AssessmentRecorded": True,
    "SideEffectReported": True,
    "AdherenceReported": True,
    "EntryCorrected": True,
    "ConditionRecorded": True,
    "ConditionResolved": True,
    "PatientRegistered": False,
    "CareTeamMemberAssigned": False,
    "CareTeamMemberRemoved": False,
    "EmergencyAccessGranted": False,
    "ConsentRecorded": False,
    "GoalSet": False,
    "GoalStatusChanged": False,
    "SafetyAlertRaised": False,
    "SafetyAlertResolved": False,
    "NoteAdded": False,
    "EducationProvided": False,
    "FollowUpScheduled": False,
    "FollowUpCompleted": False,
    "PlanReviewed": False,
    "LabResultRecorded": False,
    "ClinicalFactRecorded": False,
    "SexAtBirthRecorded": False,
    "PregnancyStatusRecorded": False,
    "PharmacogenomicResultRecorded": False,
}
"""Whether an event type can make or move a trial, for every event type (a test holds
the list to ``PatientRecord``'s events, so a new one must be decided here)."""

AFFECTING = frozenset(kind for kind, moves in MOVES_TRIALS.items() if moves)
"""Event types that can change a patient's trials; others only move the version."""


def _json_default(value: Any) -> str:
    return iso(value) or ""


def trial_document(data: StoredTrial) -> str:
    """A trial as stored: JSON, times as fixed-width UTC text (``plan_states.iso``)."""
    return json.dumps(data, default=_json_default, sort_keys=True, separators=(",", ":"))


class TreatmentTrialsView(PlanView):
    """Each patient's medication trials as of the last event the view has applied."""

    name = "treatment_trials"
    tables = (PATIENT, TRIAL)
    head = PATIENT
    order = {PATIENT: "patient_id", TRIAL: "patient_id, trial_id"}  # noqa: RUF012

    def create_tables(self, cur: Cursor, t: Tables) -> None:
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[PATIENT]} (
            patient_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            position BIGINT NOT NULL,
            episode_started_at TEXT)""")
        cur.execute(f"""CREATE TABLE IF NOT EXISTS {t[TRIAL]} (
            patient_id TEXT NOT NULL,
            trial_id TEXT NOT NULL,
            drug TEXT NOT NULL,
            drug_class TEXT,
            started_at TEXT NOT NULL,
            stopped_at TEXT,
            document TEXT NOT NULL,
            PRIMARY KEY (patient_id, trial_id))""")

    def create_indexes(self, cur: Cursor, t: Tables) -> None:
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {t.index(TRIAL, 'class')} ON {t[TRIAL]} (drug_class)"
        )

    def write(
        self, cur: Cursor, t: Tables, states: dict[str, Folded], changed: dict[str, list[str]]
    ) -> None:
        patients, rows, redone = [], [], []
        for pid, kinds in changed.items():
            folded = states[pid]
            if AFFECTING.intersection(kinds):  # no other event makes or moves a trial
                redone.append(pid)
                for trial in trials(folded.plan):
                    rows.append(
                        (
                            pid,
                            trial.trial_id,
                            trial.drug,
                            trial.drug_class,
                            iso(trial.started_at),
                            iso(trial.stopped_at),
                            trial_document(trial_as_dict(trial)),
                        )
                    )
            episode = iso(episode_start(folded.plan))
            patients.append((pid, folded.version, folded.position, episode))
        cur.replace_rows(t[PATIENT], "patient_id", PATIENT_COLUMNS, patients)
        if redone:
            where, params = cur.any_of("patient_id", redone)
            cur.execute(f"DELETE FROM {t[TRIAL]} WHERE {where}", params)
        if rows:
            cur.insert_rows(t[TRIAL], TRIAL_COLUMNS, rows)

    # -- queries ---------------------------------------------------------------------------
    def for_patient(self, patient_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The patient's trials newest first, judged at ``now``, with the resistance
        summary; None when the view has no such patient."""
        now = now or datetime.now(UTC)
        with self.db.read() as cur:
            head = cur.execute(
                f"SELECT version, position, episode_started_at FROM {PATIENT} WHERE patient_id = ?",
                (str(patient_id),),
            ).fetchone()
            if head is None:
                return None
            rows = cur.execute(
                f"SELECT document FROM {TRIAL} WHERE patient_id = ?", (str(patient_id),)
            ).fetchall()
        found = sorted(
            (trial_from_dict(json.loads(r["document"])) for r in rows),
            key=lambda t: (t.started_at, t.trial_id),
        )
        judged = [judge(t, now) for t in found]
        summary = resistance(found, judged, revive(head["episode_started_at"]))
        return {
            "patient_id": str(patient_id),
            "version": int(head["version"]),
            "position": int(head["position"]),
            "trials": list(reversed(judged)),
            "resistance": summary,
        }

    def for_patients(self, patient_ids: Sequence[str], now: datetime) -> list[PatientTrial]:
        """Judged trials of these patients, each with its ``patient_id`` (for outcomes)."""
        if not patient_ids:
            return []
        with self.db.read() as cur:
            where, params = cur.any_of("patient_id", list(patient_ids))
            rows = cur.execute(
                f"SELECT patient_id, document FROM {TRIAL} WHERE {where}"
                " ORDER BY patient_id, trial_id",
                params,
            ).fetchall()
        return [
            {
                "patient_id": r["patient_id"],
                **judge(trial_from_dict(json.loads(r["document"])), now),
            }
            for r in rows
        ]
