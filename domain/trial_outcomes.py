"""What a trial came to: adequacy, outcome, and the count behind treatment resistance.

Outcomes follow CLINICAL_REFERENCE "Measurement-based care" (STAR*D; ATRQ), judged at the
trial's latest score against its baseline (the last score within 30 days before the start):

- remission: latest PHQ-9 (GAD-7) < 5;
- response: a fall of >= 50 % from the baseline;
- minimal improvement: a fall < 20 % after >= 4 weeks at an adequate dose;
- partial response: a fall of 20-49 % after >= 6 weeks at an adequate dose;
- inadequate dose: no remission or response, and the trial has run >= 6 weeks (or has
  ended) without ever reaching the drug's minimum adequate dose: it is not a trial that
  failed, and it is no longer too early either: the dose was never high enough to judge;
- too early to judge: less than that so far;
- not assessed: no score during the trial, no baseline, or nothing to measure it by.

A drug with no minimum-adequate-dose record (or a dose not in mg) is judged on its weeks
on the drug, and its ``adequate`` is None (unknown), never guessed true or false.

An as-needed (PRN) step says only the most that may be taken a day, not what was taken:
it never counts as days at an adequate dose. A trial taken only as needed has no days at
an adequate dose known (None, judged on its weeks on the drug, like a dose not in mg); a
trial whose regular steps fall short while an as-needed maximum reached the adequate dose
is ``adequate`` None (unknown), never true on that maximum. A maximum below the adequate
dose still shows that the dose was never adequate.

Treatment resistance: >= 2 adequate antidepressant trials in the current episode whose
outcome is minimal improvement or partial response. Adequate trials with no assessment
are listed apart (they are not evidence of failure). The current episode begins at the
latest of: a depression diagnosis (ICD-10 F32/F33) resolved; the onset of the recorded,
active depression condition; a relapse after remission (a PHQ-9 >= 10 after one < 5, the
episode beginning at that score). Trials that stopped before it are earlier episodes'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from domain.adequate_doses import ADEQUATE_WEEKS
from domain.plan_vocabulary import ConditionStatus
from domain.problem_list import normalise_code
from domain.trial_shapes import JudgedScore, JudgedTrial, Resistance, TreatmentHistory
from domain.trial_storage import trial_facts
from domain.trials import Score, Trial, trials

if TYPE_CHECKING:
    from domain.plan import PlanState

MINIMAL_WEEKS = 4
RESISTANCE_THRESHOLD = 2
FAILED = ("minimal improvement", "partial response")
INADEQUATE_DOSE = "inadequate dose"
DEPRESSION_CODES = ("F32", "F33")


def _days(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 86400


def days_at_adequate(trial: Trial, until: datetime) -> float | None:
    """Days from the start to ``until`` at or above the minimum adequate dose (None when the
    drug has no record, or a step's daily dose in mg is unknown)."""
    if trial.adequate_dose is None or not trial.steps or trial.as_needed:
        return None
    end = min(until, trial.stopped_at) if trial.stopped_at is not None else until
    total = 0.0
    for i, step in enumerate(trial.steps):
        if step.mg_per_day is None:
            return None
        begin = trial.started_at if i == 0 else max(step.effective_at, trial.started_at)
        stop = trial.steps[i + 1].effective_at if i + 1 < len(trial.steps) else end
        if not step.as_needed and step.mg_per_day >= trial.adequate_dose.min_mg_per_day:
            total += _days(min(stop, end) - begin)
    return round(total, 1)


def adequate(trial: Trial, days: float | None) -> bool | None:
    """Whether the trial ran >= 6 weeks at an adequate dose (None: cannot be known)."""
    if days is None:
        return None
    if days >= 7 * ADEQUATE_WEEKS:
        return True
    dose = trial.adequate_dose
    reachable = [s.mg_per_day for s in trial.steps if s.as_needed and s.mg_per_day is not None]
    if dose is not None and any(mg >= dose.min_mg_per_day for mg in reachable):
        return None  # as needed up to an adequate dose: what was taken is not recorded
    return False


def percent_fall(baseline: Score | None, score: Score | None) -> float | None:
    if baseline is None or score is None or baseline.total <= 0:
        return None
    return round(100 * (baseline.total - score.total) / baseline.total, 1)


def _weeks_judged(trial: Trial, at: datetime) -> float:
    adequate = days_at_adequate(trial, at)
    return (adequate if adequate is not None else _days(at - trial.started_at)) / 7


def never_adequate(trial: Trial, now: datetime | None) -> bool:
    """The trial ended, or has run >= 6 weeks, without any step reaching the minimum
    adequate dose (False when the drug has no record or a dose is not in mg)."""
    dose, highest = trial.adequate_dose, trial.highest_mg_per_day
    if dose is None or highest is None or any(s.mg_per_day is None for s in trial.steps):
        return False
    if highest >= dose.min_mg_per_day:
        return False
    if trial.stopped_at is not None:
        return True
    until = now or (trial.scores[-1].effective_at if trial.scores else None)
    return until is not None and _days(until - trial.started_at) >= 7 * ADEQUATE_WEEKS


def outcome(trial: Trial, now: datetime | None = None) -> str:
    """What the trial came to by its latest score; ``now`` (the time it is judged at) only
    tells how long a running trial has lasted (default: until its latest score)."""
    latest = trial.scores[-1] if trial.scores else None
    if latest is not None and latest.total < 5:
        return "remission"
    fall = percent_fall(trial.baseline, latest)
    if fall is not None and fall >= 50:
        return "response"
    if never_adequate(trial, now):
        return INADEQUATE_DOSE
    if latest is None or fall is None:
        return "not assessed"
    weeks = _weeks_judged(trial, latest.effective_at)
    if fall < 20 and weeks >= MINIMAL_WEEKS:
        return "minimal improvement"
    if weeks >= ADEQUATE_WEEKS:
        return "partial response"
    return "too early to judge"


def weeks_to_response(trial: Trial) -> float | None:
    """Weeks from the start to the first score showing response (or remission)."""
    for score in trial.scores:
        fall = percent_fall(trial.baseline, score)
        if score.total < 5 or (fall is not None and fall >= 50):
            return round(_days(score.effective_at - trial.started_at) / 7, 1)
    return None


def judge(trial: Trial, now: datetime) -> JudgedTrial:
    """The trial as the API shows it at ``now`` (the clock only matters while it runs)."""
    end = trial.stopped_at or now
    adequate_days = days_at_adequate(trial, now)
    best = min(trial.scores, key=lambda s: (s.total, s.effective_at)) if trial.scores else None
    latest = trial.scores[-1] if trial.scores else None
    dose = trial.adequate_dose
    return {
        **trial_facts(trial),
        "active": trial.stopped_at is None,
        "stop_reason": trial.stop_reason,
        "continuing": trial.continuing.copy() if trial.continuing else None,
        "duration_days": round(_days(end - trial.started_at), 1),
        "dose_steps": [
            {
                "effective_at": s.effective_at,
                "amount": s.amount,
                "unit": s.unit,
                "frequency": s.frequency,
                "mg_per_day": s.mg_per_day,
                "as_needed": s.as_needed,
            }
            for s in trial.steps
        ],
        "highest_mg_per_day": trial.highest_mg_per_day,
        "as_needed": trial.as_needed,
        "highest_regular_mg_per_day": trial.highest_regular_mg_per_day,
        "min_adequate_mg_per_day": dose.min_mg_per_day if dose else None,
        "adequate_dose_source": dose.source if dose else None,
        "days_at_adequate_dose": adequate_days,
        "adequate": adequate(trial, adequate_days),
        "adherence": trial.adherence.copy(),
        "side_effects": [s.copy() for s in trial.side_effects],
        "instrument": trial.instrument,
        "baseline": _score(trial.baseline),
        "no_baseline": trial.instrument is not None and trial.baseline is None,
        "best": _score(best),
        "latest": _score(latest),
        "percent_change": percent_fall(trial.baseline, latest),
        "outcome": outcome(trial, now),
        "weeks_to_response": weeks_to_response(trial),
    }


def _score(score: Score | None) -> JudgedScore | None:
    return None if score is None else {"total": score.total, "effective_at": score.effective_at}


def _is_depression(code: str) -> bool:
    return normalise_code(code).startswith(DEPRESSION_CODES)


def _at(value: object, fallback: datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.combine(date.fromisoformat(value[:10]), time(0), tzinfo=UTC)
        except ValueError:
            return fallback
    return fallback


def episode_start(plan: PlanState) -> datetime | None:
    """When the current depressive episode began (module docstring); None: all history."""
    marks: list[datetime] = [
        at for code, at in plan.resolved_diagnoses.items() if _is_depression(code)
    ]
    for c in plan.conditions.values():
        if not _is_depression(c.code):
            continue
        if c.status is ConditionStatus.RESOLVED and c.resolution is not None:
            marks.append(c.resolution.effective_at)
        elif c.status is ConditionStatus.ACTIVE:
            marks.append(_at(c.onset_date, c.effective_at))
    remitted = False
    for a in plan.assessments:
        if a.instrument != "PHQ-9" or a.total is None:
            continue
        if a.total < 5:
            remitted = True
        elif a.total >= 10 and remitted:
            marks.append(a.effective_at)
            remitted = False
    return max(marks) if marks else None


def resistance(
    all_trials: Sequence[Trial], judged: Sequence[JudgedTrial], since: datetime | None
) -> Resistance:
    """The treatment-resistance count and flag, with the trials it rests on."""
    failed: list[str] = []
    unassessed: list[str] = []
    for trial, row in zip(all_trials, judged, strict=True):
        if not trial.antidepressant or row["adequate"] is not True:
            continue
        if since is not None and trial.stopped_at is not None and trial.stopped_at <= since:
            continue
        if row["outcome"] in FAILED:
            failed.append(trial.trial_id)
        elif row["outcome"] == "not assessed":
            unassessed.append(trial.trial_id)
    return {
        "episode_started_at": since,
        "adequate_failed_trials": len(failed),
        "treatment_resistant": len(failed) >= RESISTANCE_THRESHOLD,
        "trial_ids": failed,
        "adequate_unassessed_trial_ids": unassessed,
    }


def treatment_history(plan: PlanState, now: datetime) -> TreatmentHistory:
    """Trials newest first, judged at ``now``, and the resistance summary."""
    found = trials(plan)
    judged = [judge(t, now) for t in found]
    summary = resistance(found, judged, episode_start(plan))
    return {"trials": list(reversed(judged)), "resistance": summary}
