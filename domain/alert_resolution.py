"""Who may resolve a safety alert, and what a resolution must say.

Every resolution needs a reason with content: an empty, blank or one-character reason
tells the next clinician nothing about why the alert was closed. A suicide-risk alert
(a PHQ-9 item 9 answer) is closed only by the clinicians who can act on the risk: a
psychiatrist or a therapist on the patient's care team, never a pharmacist (a
pharmacist's prescriber privilege covers medication, not a risk assessment), and only
with the structured action taken (a risk assessment with its result, a safety plan, a
referral, emergency services), so the dashboard and the audit can say what was done.
Every other alert stays with the prescribers and pharmacists (DESIGN.md's role table).
CareLog itself closes alerts whose condition no longer holds, or whose figures changed
(superseded by one with the current figures), under the system actor of ``domain.actor``.
"""

from __future__ import annotations

from domain.actor import Actor, Role
from domain.errors import InvalidInputError, NotPermittedError
from domain.plan_entities import Alert

SUICIDE_RISK_KINDS = frozenset({"suicide_risk"})
"""Alert kinds about the risk of self-harm: resolved only with a structured action."""

SUICIDE_RISK_RESOLVERS = frozenset({Role.PSYCHIATRIST, Role.THERAPIST})
"""Care-team roles that may close a suicide-risk alert."""

OTHER_RESOLVERS = frozenset({Role.PSYCHIATRIST, Role.PHARMACIST})
"""Roles that may close any other alert (DESIGN.md: resolve safety alerts)."""

ACTIONS = ("risk_assessment_done", "safety_plan", "referral", "emergency_services")
"""What was done about a suicide-risk alert: a risk assessment (with its result), a safety
plan made and recorded, a referral (crisis team, specialist service), emergency services."""

RISK_RESULTS = ("low", "moderate", "high")
"""The result of a suicide risk assessment (e.g. C-SSRS), as the clinician judged it."""

SUPERSEDED = "superseded"
NO_LONGER_APPLIES = "no_longer_applies"
SYSTEM_RESOLUTIONS = (SUPERSEDED, NO_LONGER_APPLIES)
"""Resolutions only CareLog records: the figures changed, or the condition ended."""

MIN_REASON_LETTERS = 2


def is_suicide_risk(alert: Alert) -> bool:
    """Whether an alert of the plan is a suicide-risk one."""
    return is_suicide_risk_kind(alert.kind)


def is_suicide_risk_kind(kind: str) -> bool:
    """Whether alerts of this kind are suicide-risk ones (a plan document lists an alert's
    ``kind``)."""
    return kind in SUICIDE_RISK_KINDS


def reason_with_content(raw: object) -> str:
    """The reason, stripped; refused when it is missing, blank or says nothing (fewer than
    two letters or digits, such as "." or "x")."""
    if raw is not None and not isinstance(raw, str):
        raise InvalidInputError("Give the reason as text.", "reason")
    text = (raw or "").strip()
    if sum(ch.isalnum() for ch in text) < MIN_REASON_LETTERS:
        raise InvalidInputError(
            "A resolution needs a reason that says why the alert is closed "
            "(an empty, blank or one-character reason is not enough).",
            "reason",
        )
    return text


def require_resolver(actor: Actor, alert: Alert, on_care_team: bool) -> None:
    """Refuse a resolver the alert's kind does not allow (NotPermittedError: HTTP 403)."""
    if is_suicide_risk(alert):
        if actor.role not in SUICIDE_RISK_RESOLVERS or not on_care_team:
            raise NotPermittedError(
                "A suicide-risk alert is resolved only by a psychiatrist or therapist on "
                "the patient's care team."
            )
        return
    if actor.role not in OTHER_RESOLVERS:
        raise NotPermittedError(
            f"A {actor.role} may resolve only suicide-risk alerts; this one is for a "
            "psychiatrist or pharmacist."
        )


def structured_action(
    alert: Alert, action: object, result: object
) -> tuple[str | None, str | None]:
    """The action (and a risk assessment's result) a resolution records: required for a
    suicide-risk alert, optional for any other (checked when given)."""
    if action is None and result is not None:
        raise InvalidInputError("A result belongs to an action (risk_assessment_done).", "action")
    if action is None:
        if is_suicide_risk(alert):
            raise InvalidInputError(
                "A suicide-risk alert is resolved with the action taken: one of "
                f"{', '.join(ACTIONS)}.",
                "action",
            )
        return None, None
    if action not in ACTIONS:
        raise InvalidInputError(f"{action!r} is not one of {', '.join(ACTIONS)}.", "action")
    if action == "risk_assessment_done":
        if result not in RISK_RESULTS:
            raise InvalidInputError(
                f"A risk assessment needs its result: one of {', '.join(RISK_RESULTS)}.",
                "result",
            )
        return str(action), str(result)
    if result is not None:
        raise InvalidInputError(
            "Only a risk assessment (risk_assessment_done) has a result.", "result"
        )
    return str(action), None
