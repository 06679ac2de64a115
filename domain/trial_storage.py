"""Storing a trial: the treatment-trials view keeps the clock-free trial
(``domain/trials.py``) as plain data, and the clock is applied on read
(``domain/trial_outcomes.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from domain.adequate_doses import adequate_doses
from domain.plan_entities import Continuing
from domain.trials import Adherence, Score, Step, Trial


class TrialIdentity(TypedDict):
    """What identifies a trial: the head of the stored trial and of ``TrialFacts``."""

    trial_id: str
    order_ids: list[str]
    drug: str
    drug_class: str | None
    antidepressant: bool
    indication: str | None


class TrialFacts(TrialIdentity):
    """What identifies a trial and when it ran: the head of the API's judged trial."""

    started_at: datetime
    stopped_at: datetime | None


def trial_facts(trial: Trial) -> TrialFacts:
    """What identifies a trial and when it ran, as both the stored trial and the API's
    judged trial (``trial_outcomes.judge``) begin."""
    return {
        "trial_id": trial.trial_id,
        "order_ids": list(trial.order_ids),
        "drug": trial.drug,
        "drug_class": trial.drug_class,
        "antidepressant": trial.antidepressant,
        "indication": trial.indication,
        "started_at": trial.started_at,
        "stopped_at": trial.stopped_at,
    }


Stored = datetime | str
"""A time as the view stores it: the datetime itself, or its ISO text once in JSON."""


class StoredStep(TypedDict):
    effective_at: Stored
    amount: float
    unit: str
    frequency: str
    mg_per_day: float | None


class StoredScore(TypedDict):
    total: int
    effective_at: Stored


class StoredSideEffect(TypedDict):
    effect: str
    severity: str
    effective_at: Stored


class StoredTrial(TrialIdentity):
    """A trial as the view stores it (``trial_as_dict``; times as ISO text in JSON)."""

    started_at: Stored
    stopped_at: Stored | None
    stop_reason: str | None
    continuing: Continuing | None
    steps: list[StoredStep]
    adherence: Adherence
    side_effects: list[StoredSideEffect]
    instrument: str | None
    baseline: StoredScore | None
    scores: list[StoredScore]


def _time(value: Stored) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _stored_score(score: Score) -> StoredScore:
    return {"total": score.total, "effective_at": score.effective_at}


def trial_as_dict(trial: Trial) -> StoredTrial:
    """Plain data (datetimes kept) that ``trial_from_dict`` turns back into the trial."""
    return {
        **trial_facts(trial),
        "stop_reason": trial.stop_reason,
        "continuing": trial.continuing.copy() if trial.continuing else None,
        "steps": [
            {
                "effective_at": s.effective_at,
                "amount": s.amount,
                "unit": s.unit,
                "frequency": s.frequency,
                "mg_per_day": s.mg_per_day,
            }
            for s in trial.steps
        ],
        "adherence": trial.adherence.copy(),
        "side_effects": [{**s} for s in trial.side_effects],
        "instrument": trial.instrument,
        "baseline": _stored_score(trial.baseline) if trial.baseline else None,
        "scores": [_stored_score(s) for s in trial.scores],
    }


def trial_from_dict(raw: StoredTrial) -> Trial:
    """A trial from ``trial_as_dict``'s data, or from its JSON (times as ISO text)."""

    def score(s: StoredScore) -> Score:
        return Score(int(s["total"]), _time(s["effective_at"]))

    return Trial(
        trial_id=raw["trial_id"],
        order_ids=tuple(raw["order_ids"]),
        drug=raw["drug"],
        drug_class=raw["drug_class"],
        antidepressant=bool(raw["antidepressant"]),
        indication=raw["indication"],
        started_at=_time(raw["started_at"]),
        stopped_at=_time(raw["stopped_at"]) if raw["stopped_at"] else None,
        stop_reason=raw["stop_reason"],
        continuing=raw["continuing"],
        steps=tuple(
            Step(_time(s["effective_at"]), s["amount"], s["unit"], s["frequency"], s["mg_per_day"])
            for s in raw["steps"]
        ),
        adequate_dose=adequate_doses().get(raw["drug"]),
        adherence=raw["adherence"],
        side_effects=tuple(
            {**s, "effective_at": _time(s["effective_at"])} for s in raw["side_effects"]
        ),
        instrument=raw["instrument"],
        baseline=score(raw["baseline"]) if raw["baseline"] else None,
        scores=tuple(score(s) for s in raw["scores"]),
    )
