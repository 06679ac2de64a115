"""The dashboard's clinical order of urgency: the tiers a reason ranks in, and the one
number a patient sorts by (projections/dashboard_ranking.py decides each patient's
reasons)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEVERITY_WEIGHT = {
    "urgent": 100,
    "contraindicated": 60,
    "major": 40,
    "high": 40,
    "severe": 40,
    "moderate": 20,
    "minor": 5,
    "low": 5,
    "info": 1,
}
SUICIDE_RISK_URGENCY = 1000

TIERS = (
    "suicide_risk",  # by the item-9 answer, then the PHQ-9 total
    "critical",  # critical labs, contraindicated combinations (overridden), urgent alerts
    "severe_side_effects",
    "overdue",  # overdue monitoring and follow-ups
    "worsening",
    "alerts",  # every other open alert, by severity
    "monitoring_due",  # monitoring due, with no date (a dated one not yet due is "upcoming")
    "recent_changes",
)
"""The clinical order of urgency, most urgent first: a patient ranks by their most urgent
reason's tier, then within it (item 9 and the total for suicide risk, the severity
otherwise), then by how much else is going on. Recent changes alone rank last; a patient
with no reason at all ("quiet") ranks after everyone."""
CRITICAL_SEVERITIES = frozenset({"urgent", "contraindicated"})
CRITICAL_LAB_SEVERITIES = frozenset({"urgent", "major", "high", "severe"})
LAB_KINDS = frozenset({"lab_out_of_range"})
TIER_INDEX = {name: n for n, name in enumerate(TIERS)}


def alert_tier(alert: dict[str, Any]) -> str:
    """Where an open alert (not suicide risk, worsening or monitoring) ranks."""
    if alert["severity"] in CRITICAL_SEVERITIES:
        return "critical"
    if alert["kind"] in LAB_KINDS and alert["severity"] in CRITICAL_LAB_SEVERITIES:
        return "critical"
    return "alerts"


def urgency_of(ranked: Sequence[tuple[int, int, dict[str, Any]]], item9: int, total: int) -> int:
    """One number that sorts as the tiers do (``ranked`` is sorted, most urgent first):
    the best tier, then within it (suicide risk: the item-9 answer, then the PHQ-9 total;
    else the highest severity weight), then a little for everything else."""
    if not ranked:
        return 0
    best = ranked[0][0]
    head = (len(TIERS) - best) * 10**7
    if best == TIER_INDEX["suicide_risk"]:
        within = max(item9, 1) * 100 + min(max(total, 0), 99)
    else:
        within = min(max(w for t, w, _ in ranked if t == best), 999)
    rest = min(sum(len(TIERS) - t for t, _, _ in ranked), 9999)
    return head + within * 10**4 + rest
