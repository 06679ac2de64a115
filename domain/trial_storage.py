"""Storing a trial: the treatment-trials view keeps the clock-free trial
(``domain/trials.py``) as plain data, and the clock is applied on read
(``domain/trial_outcomes.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.adequate_doses import adequate_doses
from domain.trials import Score, Step, Trial


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def trial_facts(trial: Trial) -> dict[str, Any]:
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


def trial_as_dict(trial: Trial) -> dict[str, Any]:
    """Plain data (datetimes kept) that ``trial_from_dict`` turns back into the trial."""
    return {
        **trial_facts(trial),
        "stop_reason": trial.stop_reason,
        "continuing": dict(trial.continuing) if trial.continuing else None,
        "steps": [s.__dict__ for s in trial.steps],
        "adherence": dict(trial.adherence),
        "side_effects": [dict(s) for s in trial.side_effects],
        "instrument": trial.instrument,
        "baseline": trial.baseline.__dict__ if trial.baseline else None,
        "scores": [s.__dict__ for s in trial.scores],
    }


def trial_from_dict(raw: Mapping[str, Any]) -> Trial:
    """A trial from ``trial_as_dict``'s data, or from its JSON (times as ISO text)."""

    def score(s: Mapping[str, Any]) -> Score:
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
