"""The shapes of a judged trial and of a patient's treatment history, as
``domain/trial_outcomes.py`` makes them and the API, the pages, FHIR and the
treatment-trials view read them."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from domain.plan_entities import Continuing
from domain.trial_storage import TrialFacts
from domain.trials import Adherence, SideEffectSeen


class JudgedStep(TypedDict):
    effective_at: datetime
    amount: float
    unit: str
    frequency: str
    mg_per_day: float | None
    as_needed: bool


class JudgedScore(TypedDict):
    total: int
    effective_at: datetime


class JudgedTrial(TrialFacts):
    """A trial as the API shows it (``trial_outcomes.judge``): what identifies it and when
    it ran (``TrialFacts``), then what it came to."""

    active: bool
    stop_reason: str | None
    continuing: Continuing | None
    duration_days: float
    dose_steps: list[JudgedStep]
    highest_mg_per_day: float | None
    as_needed: bool
    highest_regular_mg_per_day: float | None
    min_adequate_mg_per_day: float | None
    adequate_dose_source: str | None
    days_at_adequate_dose: float | None
    adequate: bool | None
    adherence: Adherence
    side_effects: list[SideEffectSeen]
    instrument: str | None
    baseline: JudgedScore | None
    no_baseline: bool
    best: JudgedScore | None
    latest: JudgedScore | None
    percent_change: float | None
    outcome: str
    weeks_to_response: float | None


class PatientTrial(JudgedTrial):
    """A judged trial with its patient (the team outcomes read these)."""

    patient_id: str


class Resistance(TypedDict):
    """The treatment-resistance count and flag, with the trials it rests on."""

    episode_started_at: datetime | None
    adequate_failed_trials: int
    treatment_resistant: bool
    trial_ids: list[str]
    adequate_unassessed_trial_ids: list[str]


class TreatmentHistory(TypedDict):
    trials: list[JudgedTrial]
    resistance: Resistance
