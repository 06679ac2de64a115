"""A patient's medication trials under both clocks, and the team's outcomes by drug class."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.plan import PlanState
from domain.team_outcomes import team_outcomes
from domain.trial_outcomes import treatment_history
from services.access.policy import RequestInfo
from web.blueprint import CareLogBlueprint
from web.context import (
    answer_patient_read,
    carelog,
    log_read,
    reader_of,
)
from web.schemas.read_queries import ReadQuery
from web.schemas.trials import OutcomesOut, TrialsOut, TrialsQuery
from web.two_clocks import under_two_clocks

blp = CareLogBlueprint(
    "trials",
    __name__,
    url_prefix="/api/v1",
    description="Medication trials (what was tried, at what dose, for how long, and did it "
    "work) and the team's outcomes.",
)


@blp.read("/patients/<uuid:pid>/trials", TrialsQuery, TrialsOut, 400, 404, 503)
def get_trials(args: dict[str, Any], pid: UUID) -> dict[str, Any]:
    """One row per trial, newest first, and the treatment-resistance count; ``as_of`` = as
    known then, ``effective_at`` = in effect (and judged) then, like the plan."""

    def answer(state: PlanState, version: int, now: datetime) -> dict[str, Any] | None:
        if not state.patient:
            return None
        return {"patient_id": str(pid), "version": version, **treatment_history(state, now)}

    return answer_patient_read(
        str(pid), "trials", args, lambda access: under_two_clocks(access, str(pid), args, answer)
    )


@blp.read("/outcomes", ReadQuery, OutcomesOut, 400, 503)
def get_outcomes(args: dict[str, Any]) -> dict[str, Any]:
    """Response and remission rates by drug class over the caller's patients (active
    care-team membership), median weeks to response and the trials behind each figure;
    a class with fewer than 5 patients is suppressed. Every patient counted is logged."""
    who, info = reader_of("outcomes", args)
    return outcomes_for(who, info)


def outcomes_for(who: Actor, info: RequestInfo) -> dict[str, Any]:
    """The caller's team outcomes now, each patient counted recorded as an outcomes read
    (the API and the outcomes page both answer with this)."""
    now = datetime.now(UTC)
    views = carelog().views
    patients = [p["patient_id"] for p in views.current_plan.patients_for(who.id)]
    rows = views.treatment_trials.for_patients(patients, now)
    for pid in sorted({r["patient_id"] for r in rows}):
        log_read(who, info, pid, "outcomes")
    return {"clinician_id": who.id, "as_of": now, **team_outcomes(rows)}
