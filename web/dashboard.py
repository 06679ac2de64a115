"""The caller's team dashboard: their patients ranked by urgency."""

from __future__ import annotations

from typing import Any

from web.blueprint import CareLogBlueprint
from web.context import carelog, log_read, reader_of
from web.schemas.dashboard_out import DashboardOut
from web.schemas.read_queries import DashboardQuery

blp = CareLogBlueprint(
    "dashboard",
    __name__,
    url_prefix="/api/v1",
    description="Each clinician's patients, most urgent first.",
)


@blp.read("/dashboard", DashboardQuery, DashboardOut, 400, 422, 503)
def dashboard(args: dict[str, Any]) -> dict[str, Any]:
    """Open alerts, suicide-risk items, overdue follow-ups and monitoring, recent changes,
    worsening scores and severe side effects, per patient, most urgent first."""
    who, info = reader_of("dashboard", args)
    kinds = [k.strip() for k in (args.get("kinds") or "").split(",") if k.strip()] or None
    board = carelog().views.team_dashboard.for_clinician(who.id, kinds=kinds)
    for row in board["patients"]:
        log_read(who, info, row["patient_id"], "dashboard")
    return {**board, "role": str(who.role)}
