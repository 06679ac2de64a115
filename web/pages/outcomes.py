"""The team-outcomes page: how the signed-in clinician's patients' trials went, by drug class.

The same figures as ``GET /api/v1/outcomes`` (cells under 5 patients suppressed), as a
table and a bar chart; each patient counted is recorded as an outcomes read.
"""

from __future__ import annotations

from typing import Any

from domain.actor import Actor
from services.access.policy import RequestInfo
from web.pages.blueprint import bp
from web.pages.outcomes_chart import outcomes_chart
from web.pages.team_pages import render_team_page
from web.trials import outcomes_for


@bp.get("/outcomes")
def outcomes() -> Any:
    def content(who: Actor, info: RequestInfo) -> dict[str, Any]:
        found = outcomes_for(who, info)
        return {"outcomes": found, "chart": outcomes_chart(found["classes"])}

    return render_team_page("outcomes", "pages/outcomes.html", content)
