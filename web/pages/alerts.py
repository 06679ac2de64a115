"""Alert review: the open safety alerts of the signed-in clinician's patients, most severe
first, each with its age; pharmacists and prescribers acknowledge or override each with a
reason, and a suicide-risk alert is closed by a psychiatrist or therapist with the action
taken (``domain.alert_resolution``).

Each patient's alerts are read through the policy (a recorded plan read). A resolution is
the API's write: the same role check (``Policy.require_write``), the same command, the
same denied-write record; the form carries the session's CSRF token (checked before any
view runs, see ``web.pages``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request

from domain import commands as c
from domain.alert_resolution import (
    ACTIONS,
    OTHER_RESOLVERS,
    RISK_RESULTS,
    SUICIDE_RISK_RESOLVERS,
    is_suicide_risk_kind,
)
from domain.errors import CareLogError, NotPermittedError
from services.reading.plan_document import open_alerts
from web.context import actor, carelog, command_context, policy, reader_of, request_info, views_wait
from web.pages.blueprint import bp

SEVERITY_ORDER = ("urgent", "contraindicated", "major", "moderate", "minor", "info")
RESOLUTIONS = {"acknowledged": "acknowledged", "overridden": "overridden"}


def _rank(alert: dict[str, Any]) -> tuple[int, str]:
    severity = alert["severity"]
    position = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
    return position, str(alert["raised_at"])


@bp.get("/alerts")
def alerts() -> Any:
    who, info = reader_of("dashboard")  # clinicians: their patients' alerts
    instance = carelog()
    # The list of the clinician's patients comes from the current-plan view: let it catch up
    # with the log first (bounded), so a patient registered a moment ago is listed.
    head = int(instance.app.recorder.max_notification_id() or 0)
    instance.views.wait_for(head, timeout=views_wait(), names=["current_plan"])
    found = []
    now = datetime.now(UTC)
    for patient in instance.views.current_plan.patients_for(who.id):
        access = policy().read_patient(who, patient["patient_id"], "plan", info)
        listed, name, external_id = access.read(
            lambda r: (
                open_alerts(r.plan, now),
                r.plan.patient.name,
                r.plan.patient.external_id,
            )
        )
        for alert in listed:
            suicide_risk = is_suicide_risk_kind(str(alert.get("kind")))
            found.append(
                {
                    **alert,
                    "patient_id": patient["patient_id"],
                    "patient_name": name,
                    "external_id": external_id,
                    # Showing a form is a courtesy; the command decides again when one is sent.
                    "may_resolve": who.role
                    in (SUICIDE_RISK_RESOLVERS if suicide_risk else OTHER_RESOLVERS),
                    "suicide_risk": suicide_risk,
                }
            )
    found.sort(key=_rank)
    return render_template(
        "pages/alerts.html",
        who=who,
        alerts=found,
        may_resolve=any(a["may_resolve"] for a in found),
        actions=ACTIONS,
        results=RISK_RESULTS,
    )


@bp.post("/patients/<uuid:pid>/alerts/<string:alert_id>/resolution")
def resolve_alert(pid: UUID, alert_id: str) -> Any:
    who, info = actor(), request_info()
    patient_id = str(pid)
    policy().require_write(who, "alert_resolution", info, patient_id)
    resolution = RESOLUTIONS.get(request.form.get("resolution", ""))
    reason = request.form.get("reason", "")
    action = request.form.get("action") or None
    result = request.form.get("result") or None
    if resolution is None:
        flash("Choose to acknowledge or override the alert.", "error")
        return redirect("/alerts", code=303)
    try:
        carelog().commands.execute(
            command_context(),
            patient_id,
            c.ResolveAlert(
                alert_id=alert_id,
                resolution=resolution,
                reason=reason,
                action=action,
                result=result,
            ),
        )
    except NotPermittedError as exc:
        policy().record_denied_write(who, patient_id, "alert_resolution", info, exc.message)
        raise
    except CareLogError as exc:
        flash(f"{exc.field}: {exc.message}" if exc.field else exc.message, "error")
        return redirect(f"/alerts#alert-{alert_id}", code=303)
    flash(f"Alert {resolution}.")
    return redirect("/alerts", code=303)
