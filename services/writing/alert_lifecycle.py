"""Open alerts kept true after every write the rules ran on (see ``services.writing.safety_check``).

An open alert whose figures changed (same rule and orders, another message: escitalopram
raised again past the maximum, the next monitoring date) is raised again with the current
figures and the old one closed as superseded by it. One the rules no longer return (the dose
lowered under the maximum, the interacting drug stopped) is closed as no longer applying,
with the write that ended it as the reason. Both are CareLog's own resolutions, under the
system actor. A change-driven alert (a suicide-risk answer, a titration step) is about its
own write: later writes do not repeat it, so their silence neither supersedes nor closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.command_context import CommandContext
from domain.patient_record import PatientRecord
from domain.plan_entities import Alert
from domain.plan_vocabulary import AlertStatus

GROUPED_MONITORING = "MONITORING|"
"""The key prefix of a prescription's one monitoring alert (``domain.safety.monitoring_plan``)."""

CHANGE_PHRASES = {
    "prescribed": "{drug} was prescribed",
    "dose_changed": "the dose of {drug} was changed to {dose}",
    "discontinued": "{drug} was discontinued",
    "lab": "a lab result was recorded",
    "fact": "the clinical fact {fact} was recorded",
    "assessment": "an assessment was recorded",
    "side_effect": "a side effect was reported",
}


class AlertLifecycle:
    """CareLog's own resolutions of one write's open alerts."""

    def __init__(
        self,
        record: PatientRecord,
        ctx: CommandContext,
        pack_version: str,
        change_driven: Callable[[str, str], bool],
    ) -> None:
        self.record = record
        self.ctx = ctx
        self.pack_version = pack_version
        self.change_driven = change_driven

    def _open(self) -> list[Alert]:
        return [a for a in self.record.plan.alerts.values() if a.status is AlertStatus.OPEN]

    def supersede(self, findings: list[Any]) -> list[tuple[str, Any]]:
        """Raise again, with the current figures, each open alert whose figures changed;
        returns the new alerts' (id, finding)."""
        by_key = {a.key: a for a in self._open()}
        raised = []
        for finding in findings:
            old = by_key.get(finding.key)
            if (
                old is None
                or figures(old.message) == figures(finding.message)
                or self.change_driven(finding.kind, finding.rule_id)
            ):
                continue
            alert_id = self.record.raise_alert(
                self.ctx,
                finding=finding,
                rule_pack_version=self.pack_version,
                override_reason=old.override_reason,
            )
            self.record.resolve_alert_by_system(
                self.ctx,
                old.alert_id,
                f"Superseded by alert {alert_id} with the current figures: {finding.message}",
                superseded_by=alert_id,
            )
            raised.append((alert_id, finding))
        return raised

    def close_obsolete(self, findings: list[Any], change: Any) -> None:
        """Close each open alert the rules no longer return (not change-driven ones)."""
        current = {f.key for f in findings}
        why = no_longer_holds(self.record, change)
        for alert in self._open():
            if alert.key in current or self.change_driven(alert.kind, alert.rule_id):
                continue
            successor = self._grouped_successor(alert)
            if successor is not None:
                self.record.resolve_alert_by_system(
                    self.ctx,
                    alert.alert_id,
                    f"Superseded by alert {successor}, which lists all the monitoring of this "
                    "prescription.",
                    superseded_by=successor,
                )
            else:
                self.record.resolve_alert_by_system(self.ctx, alert.alert_id, why)

    def _grouped_successor(self, alert: Alert) -> str | None:
        """For a one-test monitoring alert of an older log, the open alert that now lists
        all the monitoring of the same orders."""
        if alert.kind != "monitoring_due" or alert.key.startswith(GROUPED_MONITORING):
            return None
        orders = sorted(alert.order_ids)
        return next(
            (
                a.alert_id
                for a in self._open()
                if a.key.startswith(GROUPED_MONITORING) and sorted(a.order_ids) == orders
            ),
            None,
        )


def figures(message: str) -> str:
    """What an alert says about the plan, without the note a fact write appends to it (that
    the fact was recorded, not refused): the same figures said after another write are not
    news."""
    from domain.safety.fact_interactions import FACT_WRITE_NOTE

    return message.split(FACT_WRITE_NOTE.split("{drug}")[0])[0]


def no_longer_holds(record: PatientRecord, change: Any) -> str:
    """Why CareLog closes an alert itself: the write after which its rule no longer fires,
    with its effective date (never "today": the reason is read months later)."""
    order = record.plan.orders.get(change.order_id) if change.order_id else None
    dose = ""
    if order is not None and order.steps:
        step = order.current
        amount = float(step.dose["amount"])
        dose = f"{amount:g} {step.dose['unit']} {step.frequency}"
    phrase = CHANGE_PHRASES.get(change.kind, "the plan was changed").format(
        drug=order.drug_name if order else "the medication",
        dose=dose,
        fact=change.fact or "",
    )
    correction = "a correction: " if getattr(change, "correction", False) else ""
    when = change.effective_at.date().isoformat()
    return (
        "Condition no longer holds: the rule no longer applies after "
        f"{correction}{phrase} (effective {when})."
    )
