"""The team-outcomes page: how the signed-in clinician's patients' trials went, by drug class.

The same figures as ``GET /api/v1/outcomes`` (cells under 5 patients suppressed), as a
table and a bar chart; each patient counted is recorded as an outcomes read.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from web.context import carelog, reader_of, views_wait
from web.pages.blueprint import bp
from web.pages.outcomes_chart import outcomes_chart
from web.trials import outcomes_for


@bp.get("/outcomes")
def outcomes() -> Any:
    who, info = reader_of("outcomes")
    instance = carelog()
    head = int(instance.app.recorder.max_notification_id() or 0)
    caught_up = head == 0 or instance.views.wait_for(head, timeout=views_wait())
    found = outcomes_for(who, info)
    return render_template(
        "pages/outcomes.html",
        who=who,
        outcomes=found,
        chart=outcomes_chart(found["classes"]),
        caught_up=caught_up,
    )
