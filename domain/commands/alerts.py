"""The command a clinician uses on a safety alert (CareLog raises them itself)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResolveAlert:
    """Close an alert: acknowledged, overridden (with a reason) or the plan changed; a
    suicide-risk alert with the action taken and, for a risk assessment, its result."""

    alert_id: str
    resolution: str
    reason: str | None = None
    action: str | None = None
    result: str | None = None
