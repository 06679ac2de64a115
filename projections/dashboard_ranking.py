"""How urgent each of a clinician's patients is today, from the dashboard's stored facts.

Overdue-ness, "changed in the last 7 days" and the ranking depend on the clock, so they
are decided here, when the dashboard is read. A suicide-risk item (an open
``suicide_risk`` alert, or the last PHQ-9's item 9 above 0) always ranks first and is
never filtered out; the rest rank by clinical urgency (``TIERS``), recent changes last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from projections.dashboard_tiers import (
    SEVERITY_WEIGHT,
    SUICIDE_RISK_URGENCY,
    TIER_INDEX,
    alert_tier,
    urgency_of,
)
from projections.plan_states import revive

KINDS = (
    "suicide_risk",
    "alerts",
    "worsening",
    "overdue_follow_ups",
    "monitoring_due",
    "severe_side_effects",
    "recent_changes",
)
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "psychiatrist": KINDS,
    "pharmacist": (
        "suicide_risk",
        "alerts",
        "monitoring_due",
        "severe_side_effects",
        "recent_changes",
        "overdue_follow_ups",
    ),
    "therapist": (
        "suicide_risk",
        "worsening",
        "overdue_follow_ups",
        "severe_side_effects",
        "recent_changes",
    ),
}
"""The kinds each role acts on; a caller may pass them as ``kinds``."""
RECENT = timedelta(days=7)
SEVERE_RECENT = timedelta(days=30)
WORSENING_RISE = 5
MONITORING_KINDS = frozenset({"monitoring_due", "reassessment_due"})  # PHQ-9 due: measured care
SUICIDE_KINDS = frozenset({"suicide_risk"})
WORSENING_KINDS = frozenset({"worsening"})
"""Alerts of these kinds are shown as their own reasons, not as generic alerts."""


def default_kinds(role: str) -> tuple[str, ...]:
    return ROLE_KINDS.get(role, KINDS)


def _reason(kind: str, severity: str, message: str, at: datetime | None) -> dict[str, Any]:
    return {"kind": kind, "severity": severity, "message": message, "at": at}


def _alert_reason(
    kind: str,
    alert: dict[str, Any],
    now: datetime,
    *,
    severity: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A reason that is an open alert: with its id, when it was raised and its age in
    whole days, so an alert left open for weeks shows as such."""
    raised = alert["raised_at"]
    return {
        **_reason(kind, severity or alert["severity"], alert["message"], at or raised),
        "alert_id": alert["id"],
        "raised_at": raised,
        "age_days": max(0, (now - raised).days) if raised is not None else None,
    }


UPCOMING_WHAT = {"reassessment_due": "PHQ-9", "monitoring_due": "Monitoring"}


def _upcoming(alert: dict[str, Any]) -> dict[str, Any]:
    """A reminder not yet due, as the board shows it: "PHQ-9 due 2026-03-01"."""
    what = UPCOMING_WHAT.get(alert["kind"], "Reminder")
    due: datetime = alert["due_at"]
    return {
        "kind": alert["kind"],
        "message": f"{what} due {due.date().isoformat()}",
        "due_at": due,
        "alert_id": alert["id"],
    }


def _times(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of the stored summary with its times as datetimes again."""

    def with_times(item: dict[str, Any], *keys: str) -> dict[str, Any]:
        return {**item, **{key: revive(item[key]) for key in keys}}

    phq9 = summary["phq9"]
    return {
        "alerts": [with_times(a, "raised_at", "due_at") for a in summary["alerts"]],
        "follow_ups": [with_times(f, "due_at") for f in summary["follow_ups"]],
        "changes": [with_times(c, "at") for c in summary["changes"]],
        "severe_side_effects": [with_times(s, "at") for s in summary["severe_side_effects"]],
        "phq9": with_times(phq9, "at") if phq9 else None,
    }


def scores(summary: dict[str, Any]) -> dict[str, Any]:
    """The latest PHQ-9 and GAD-7: total, band, change from the one before and the trend
    (oldest first). A summary stored before scores were kept has the PHQ-9 total only."""
    stored = summary.get("scores")
    if stored:
        return {name: {**s, "at": revive(s["at"])} for name, s in stored.items()}
    phq9 = summary.get("phq9")
    if not phq9:
        return {}
    trend = [t for t in (phq9.get("previous"), phq9["total"]) if t is not None]
    change = phq9["total"] - phq9["previous"] if phq9.get("previous") is not None else None
    return {
        "PHQ-9": {
            "total": phq9["total"],
            "band": None,
            "change": change,
            "trend": trend,
            "at": revive(phq9["at"]),
        }
    }


def assess(summary: dict[str, Any], kinds: Sequence[str], now: datetime) -> dict[str, Any]:
    """Reasons for attention (only ``kinds``, plus suicide risk always), counts and urgency.
    ``summary`` is as ``summarize`` stored it (times as text)."""
    latest = scores(summary)
    summary = _times(summary)
    reasons: list[tuple[int, int, dict[str, Any]]] = []

    def add(tier: str, weight: int, reason: dict[str, Any]) -> None:
        reasons.append((TIER_INDEX[tier], weight, reason))

    alerts = [
        a
        for a in summary["alerts"]
        if a["kind"] not in MONITORING_KINDS | SUICIDE_KINDS | WORSENING_KINDS
    ]
    # A dated reminder not yet due (a PHQ-9 due in 30 days) needs no attention today: it
    # is shown quietly and counts, and ranks, once its date has passed.
    upcoming = [
        a
        for a in summary["alerts"]
        if a["kind"] in MONITORING_KINDS and a["due_at"] is not None and a["due_at"] > now
    ]
    monitoring = [
        a for a in summary["alerts"] if a["kind"] in MONITORING_KINDS and a not in upcoming
    ]
    suicide_alerts = [a for a in summary["alerts"] if a["kind"] in SUICIDE_KINDS]
    worsening_alerts = [a for a in summary["alerts"] if a["kind"] in WORSENING_KINDS]
    overdue = [f for f in summary["follow_ups"] if f["due_at"] < now]
    recent = [c for c in summary["changes"] if c["at"] >= now - RECENT]
    severe = [s for s in summary["severe_side_effects"] if s["at"] >= now - SEVERE_RECENT]
    phq9 = summary["phq9"]
    rise = phq9["total"] - phq9["previous"] if phq9 and phq9["previous"] is not None else None
    worsening = bool(worsening_alerts) or (rise is not None and rise >= WORSENING_RISE)
    item9 = bool(phq9 and phq9["item9"] > 0)

    for a in suicide_alerts:
        add("suicide_risk", SUICIDE_RISK_URGENCY, _alert_reason("suicide_risk", a, now))
    if item9 and phq9 is not None and not suicide_alerts:  # the alert says it already
        add(
            "suicide_risk",
            SUICIDE_RISK_URGENCY,
            _reason(
                "suicide_risk",
                "urgent",
                f"PHQ-9 item 9 (thoughts of self-harm) scored {phq9['item9']}",
                phq9["at"],
            ),
        )
    if "alerts" in kinds:
        for a in alerts:
            weight = SEVERITY_WEIGHT.get(a["severity"], 10)
            add(alert_tier(a), weight, _alert_reason("alerts", a, now))
    if "worsening" in kinds:
        for a in worsening_alerts:
            add("worsening", 50, _alert_reason("worsening", a, now))
        if worsening and not worsening_alerts and phq9 is not None:
            message = f"PHQ-9 rose from {phq9['previous']} to {phq9['total']}"
            add("worsening", 50, _reason("worsening", "major", message, phq9["at"]))
    if "overdue_follow_ups" in kinds:
        for f in overdue:
            days = (now - f["due_at"]).days
            message = f"Follow-up overdue by {days} day(s): {f['purpose']}"
            add(
                "overdue",
                25 + min(days, 30),
                _reason("overdue_follow_ups", "moderate", message, f["due_at"]),
            )
    if "monitoring_due" in kinds:
        for a in monitoring:
            late = a["due_at"] is not None and a["due_at"] < now
            reason = _alert_reason(
                "monitoring_due",
                a,
                now,
                severity="major" if late else a["severity"],
                at=a["due_at"] or a["raised_at"],
            )
            add("overdue" if late else "monitoring_due", 35 if late else 20, reason)
    if "severe_side_effects" in kinds:
        for s in severe:
            message = f"Severe side effect: {s['effect']}" + (
                f" ({s['drug']})" if s["drug"] else ""
            )
            add(
                "severe_side_effects",
                40,
                _reason("severe_side_effects", "severe", message, s["at"]),
            )
    if "recent_changes" in kinds:
        for c in reversed(recent):  # newest first
            reason = _reason("recent_changes", "info", c["message"], c["at"])
            by = c.get("by")
            reason["by"] = (by.get("name") or by.get("role")) if by else None
            add("recent_changes", 5, reason)

    reasons.sort(key=lambda r: (r[0], -r[1]))
    suicide_risk = bool(suicide_alerts) or item9
    return {
        "urgency": urgency_of(reasons, phq9["item9"] if phq9 else 0, phq9["total"] if phq9 else 0),
        "reasons": [r for _, _, r in reasons],
        "open_alerts": len(summary["alerts"]),
        "overdue_follow_ups": len(overdue),
        "recent_changes": len(recent),
        "worsening": worsening,
        "severe_side_effects": len(severe),
        "monitoring_due": len(monitoring),
        "suicide_risk": suicide_risk,
        "scores": latest,
        "upcoming": [_upcoming(a) for a in sorted(upcoming, key=lambda a: a["due_at"])]
        if "monitoring_due" in kinds
        else [],
        "quiet": not reasons,
    }
