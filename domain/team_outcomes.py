"""Team outcomes: how the caller's patients' trials went, by drug class, with small cells hidden.

Over judged trials (those with an outcome of remission, response, partial response or
minimal improvement; "too early to judge" and "not assessed" trials are not counted in a
rate): the share that responded (response or remission), the share that remitted, and
the median weeks from the start to the first score showing response. A class whose
trials belong to fewer than ``MIN_PATIENTS`` distinct patients is suppressed whole (all
figures null, the class still named): a rate over two or three people identifies them.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median
from typing import TypedDict

MIN_PATIENTS = 5
JUDGED = frozenset({"remission", "response", "partial response", "minimal improvement"})
RESPONDED = frozenset({"remission", "response"})
UNCLASSIFIED = "unclassified"


class TrialOfPatient(TypedDict):
    """What the team outcomes read of a judged trial (``trial_outcomes.judge``'s row of
    one patient: ``PatientTrial``)."""

    patient_id: str
    drug_class: str | None
    instrument: str | None
    outcome: str
    weeks_to_response: float | None


class Cell(TypedDict):
    """One drug class's figures (all None when suppressed)."""

    drug_class: str
    patients: int | None
    trials: int | None
    judged_trials: int | None
    response_rate: float | None
    remission_rate: float | None
    median_weeks_to_response: float | None
    suppressed: bool


class TeamOutcomes(TypedDict):
    minimum_patients: int
    classes: list[Cell]


def _cell(drug_class: str, rows: list[TrialOfPatient]) -> Cell:
    patients = {r["patient_id"] for r in rows}
    if len(patients) < MIN_PATIENTS:
        return {
            "drug_class": drug_class,
            "patients": None,
            "trials": None,
            "judged_trials": None,
            "response_rate": None,
            "remission_rate": None,
            "median_weeks_to_response": None,
            "suppressed": True,
        }
    judged = [r for r in rows if r["outcome"] in JUDGED]
    weeks = [r["weeks_to_response"] for r in judged if r["weeks_to_response"] is not None]

    def rate(outcomes: frozenset[str]) -> float | None:
        if not judged:
            return None
        return round(100 * sum(r["outcome"] in outcomes for r in judged) / len(judged), 1)

    return {
        "drug_class": drug_class,
        "patients": len(patients),
        "trials": len(rows),
        "judged_trials": len(judged),
        "response_rate": rate(RESPONDED),
        "remission_rate": rate(frozenset({"remission"})),
        "median_weeks_to_response": round(median(weeks), 1) if weeks else None,
        "suppressed": False,
    }


def team_outcomes(trials: Iterable[TrialOfPatient]) -> TeamOutcomes:
    """Cells by drug class (sorted by name) over judged trials (each with ``patient_id``,
    ``drug_class``, ``instrument``, ``outcome`` and ``weeks_to_response``); trials with
    nothing to measure them by are left out."""
    by_class: dict[str, list[TrialOfPatient]] = {}
    for trial in trials:
        if trial["instrument"] is None:
            continue
        by_class.setdefault(trial["drug_class"] or UNCLASSIFIED, []).append(trial)
    return {
        "minimum_patients": MIN_PATIENTS,
        "classes": [_cell(name, rows) for name, rows in sorted(by_class.items())],
    }
