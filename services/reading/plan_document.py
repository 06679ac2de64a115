"""The patient's plan as the API shows it, from a folded ``PlanState``.

One function serves every clock: the current plan, the plan as known at T and the plan in
effect at T are the same document built from differently folded states. It is built by
the current-plan view's own renderers (``projections/plan_document.py``), so the plan a
client reads is the same whichever way it was built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.plan import PlanState
from projections.plan_document import live_document
from projections.plan_document import open_alerts as alerts_of


def plan_document(state: PlanState, patient_id: str, version: int, now: datetime) -> dict[str, Any]:
    """The plan: active medications, latest scores with trend, open alerts (with their age
    at ``now``), goals, scheduled follow-ups (overdue marked), the team, the problem list,
    pregnancy status and pharmacogenomics."""
    return live_document(state, patient_id, version, now)


def open_alerts(state: PlanState, now: datetime | None = None) -> list[dict[str, Any]]:
    """The open alerts, each with when it was raised and (given ``now``) its age in days."""
    return alerts_of(state, now)
