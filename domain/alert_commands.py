"""Safety alerts: raised by the safety check of a write, resolved by a clinician or, when
their condition no longer holds, by CareLog itself.

A mixin of ``PatientRecord`` (``domain/record_checks.py`` says what it relies on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.safety.context import Finding

from typing import TYPE_CHECKING

from domain.actor import SYSTEM_ACTOR_ID, SYSTEM_ROLE
from domain.alert_resolution import (
    NO_LONGER_APPLIES,
    SUPERSEDED,
    reason_with_content,
    require_resolver,
    structured_action,
)
from domain.clinical_vocabulary import RESOLUTIONS
from domain.command_context import CommandContext, choice, new_id, require_id
from domain.commands import ResolveAlert
from domain.errors import InvalidInputError, NotFoundError
from domain.record_checks import RecordCommandsBase

if TYPE_CHECKING:
    pass


class AlertCommands(RecordCommandsBase):
    """Commands that raise and resolve safety alerts."""

    def raise_alert(
        self,
        ctx: CommandContext,
        *,
        finding: Finding,
        rule_pack_version: str,
        override_reason: str | None = None,
    ) -> str:
        """Record a safety finding as an open alert (called by the safety check of a write)."""
        alert_id = new_id()
        self._trigger(
            self.SafetyAlertRaised,
            ctx,
            alert_id=alert_id,
            key=finding.key,
            rule_id=finding.rule_id,
            rule_pack_version=rule_pack_version,
            kind=finding.kind,
            severity=finding.severity,
            message=finding.message,
            action=finding.action,
            source=finding.source,
            order_ids=list(finding.order_ids),
            due_at=finding.due_at,
            test=finding.test,
            override_reason=override_reason,
        )
        return alert_id

    def resolve_alert(self, ctx: CommandContext, cmd: ResolveAlert) -> str:
        """A clinician closes an alert with a reason (see ``domain.alert_resolution``): a
        suicide-risk alert by a psychiatrist or therapist on the care team, with the action
        taken; any other by a prescriber or pharmacist."""
        alert_id = cmd.alert_id
        resolution = cmd.resolution
        self._require_access(ctx)
        alert = self.plan.alerts.get(require_id(alert_id, "alert_id", "An alert id"))
        if alert is None:
            raise NotFoundError(f"There is no safety alert {alert_id}.", "alert_id")
        require_resolver(ctx.actor, alert, self.is_member(ctx.actor.id))
        if alert.status != "open":
            raise InvalidInputError("That alert was resolved already.", "alert_id")
        resolution = choice(resolution, "resolution", RESOLUTIONS)
        if resolution == "overridden" and not (isinstance(cmd.reason, str) and cmd.reason.strip()):
            raise InvalidInputError("An override needs a reason.", "reason")
        text = reason_with_content(cmd.reason)
        taken, outcome = structured_action(alert, cmd.action, cmd.result)
        return self._trigger(
            self.SafetyAlertResolved,
            ctx,
            alert_id=alert_id,
            resolution=resolution,
            reason=text,
            action=taken,
            result=outcome,
        )

    def resolve_alert_by_system(
        self,
        ctx: CommandContext,
        alert_id: str,
        reason: str = "Condition no longer holds after this change to the plan.",
        superseded_by: str | None = None,
    ) -> str:
        """CareLog closes an open alert itself, under the system actor: its condition no
        longer holds after the writer's change, or (``superseded_by``) it was raised again
        with the current figures."""
        event_id = new_id()
        self.trigger_event(
            self.SafetyAlertResolved,
            event_id=event_id,
            actor_id=SYSTEM_ACTOR_ID,
            actor_role=SYSTEM_ROLE,
            effective_at=ctx.now,
            correlation_id=ctx.correlation_id,
            timestamp=ctx.now,
            alert_id=alert_id,
            resolution=SUPERSEDED if superseded_by else NO_LONGER_APPLIES,
            reason=reason,
            superseded_by=superseded_by,
        )
        return event_id
