"""Runs the safety rule pack on every write that changes what the rules read.

The rules see the plan *after* the change. A finding that is already open is not raised
again; one that was resolved comes back only when the write touches one of its orders
(a new dose of the same drug deserves a new look). A contraindicated finding stops the
write unless a prescriber gives an override reason, which is recorded on the alert.
A correction of an earlier entry re-runs that entry's rules on the corrected plan; it
raises what the corrected values newly trigger (a finding seen before only if its message
changed) and is never refused, since it records what already happened. A clinical fact is
never refused either (a contraindication it reveals, such as alcohol stopped abruptly on
bupropion, is raised as an alert that says so), and a new value of a fact brings back the
resolved findings that hold on it.
Open alerts the change made obsolete (an interaction whose drug was stopped, a monitoring
item a lab result satisfied) are closed as "changed".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any, overload

from domain.command_context import CommandContext
from domain.errors import NotPermittedError, SafetyBlockError
from domain.patient_record import PatientRecord
from domain.plan import PlanState


class AssessmentPoints(Sequence[Any]):
    """The plan's assessments as the rules see them, each converted when a rule reads it:
    the rules read the few around the change, and a long record has thousands."""

    def __init__(self, assessments: list[dict[str, Any]]) -> None:
        self._assessments = assessments

    def __len__(self) -> int:
        return len(self._assessments)

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        from domain.safety import AssessmentPoint

        a = self._assessments[index]
        return AssessmentPoint(
            a["instrument"], a["total"], tuple(a["item_scores"]), a["effective_at"]
        )


def patient_context(plan: PlanState, now: Any) -> Any:
    """The safety engine's view of a plan."""
    from domain.safety import (
        DoseStep,
        LabResult,
        MedicationCourse,
        PatientContext,
    )

    courses = tuple(
        MedicationCourse(
            order_id=order["order_id"],
            drug=order["drug"].get("generic") or order["drug"]["name"],
            formulation=order["drug"].get("formulation"),
            route=order["route"],
            steps=tuple(
                DoseStep(
                    step["effective_at"],
                    float(step["dose"]["amount"]),
                    step["dose"]["unit"],
                    step["frequency"],
                )
                for step in order["steps"]
            ),
            stopped_at=order["stopped_at"],
            taper=order["taper"],
            indication=order.get("indication"),
        )
        for order in plan.orders.values()
    )
    born = plan.patient.get("birth_date")
    return PatientContext(
        now=now,
        birth_date=date.fromisoformat(born) if born else None,
        facts={name: fact["value"] for name, fact in plan.facts.items()},
        medications=courses,
        assessments=AssessmentPoints(plan.assessments),
        labs=tuple(
            LabResult(lab["test"], lab["effective_at"], lab["value"], lab.get("unit"))
            for lab in plan.labs
        ),
    )


def alert_summary(alert_id: str, finding: Any) -> dict[str, Any]:
    return {
        "id": alert_id,
        "kind": finding.kind,
        "severity": finding.severity,
        "message": finding.message,
        "rule_id": finding.rule_id,
        "action": finding.action,
        "source": finding.source,
        "order_ids": list(finding.order_ids),
        "due_at": finding.due_at,
        "blocking": finding.blocking,
    }


class SafetyCheck:
    """The write path's hook into the rule engine."""

    def __init__(self, pack: Any) -> None:
        self.pack = pack

    def change_driven(self, kind: str, rule_id: str) -> bool:
        """A finding about the write itself (abrupt stop, titration step ...): later
        evaluations do not repeat it, so its absence then does not close it."""
        from domain.safety.engine import is_change_driven

        return is_change_driven(
            SimpleNamespace(kind=kind, rule_id=rule_id),  # type: ignore[arg-type]
            self.pack,
        )

    @staticmethod
    def refact(record: PatientRecord, change: Any) -> str | None:
        """The fact (normalised) whose value a fact write changed; None for any other write
        and for a fact recorded again with the value it had."""
        from domain.safety.drugs import normalise_name

        if change.kind != "fact" or not change.fact or change.correction:
            return None
        current = record.plan.facts.get(change.fact, {}).get("value")
        before = change.previous_value

        def same(a: Any, b: Any) -> bool:
            return a is not None and b is not None and a.lower().split() == b.lower().split()

        return None if same(current, before) else normalise_name(change.fact)

    def findings(self, record: PatientRecord, change: Any, now: Any) -> list[Any]:
        from domain.safety import evaluate

        return list(evaluate(patient_context(record.plan, now), change, self.pack))

    def __call__(
        self, record: PatientRecord, change: Any, ctx: CommandContext, override_reason: str | None
    ) -> list[dict[str, Any]]:
        findings = self.findings(record, change, ctx.now)
        alerts = record.plan.alerts.values()
        open_keys = {a["key"] for a in alerts if a["status"] == "open"}
        seen_keys = {a["key"] for a in alerts}
        correction = bool(getattr(change, "correction", False))
        fact_write = change.kind == "fact"
        refact = self.refact(record, change)
        said = {(a["key"], a["message"]) for a in alerts}
        new = [
            f
            for f in findings
            if f.key not in open_keys
            and (
                f.key not in seen_keys
                # a correction re-runs the rules: only what it changed is news
                or (correction and (f.key, f.message) not in said)
                or (
                    not correction
                    and (
                        self.change_driven(f.kind, f.rule_id)
                        or (change.order_id is not None and change.order_id in f.order_ids)
                        # a new value of the fact a finding holds on deserves a new look too
                        or (refact is not None and f.fact == refact)
                    )
                )
            )
        ]
        # A correction records what was already done, a clinical fact what is true of the
        # patient (that they stopped drinking, say): both are alerted on, never refused.
        blocking = [] if correction or fact_write else [f for f in new if f.blocking]
        override = (override_reason or "").strip() or None
        if blocking and override is None:
            raise SafetyBlockError(
                "Refused: "
                + " ".join(f.message for f in blocking)
                + " A prescriber may override with a reason (override_reason).",
                [alert_summary("", f) for f in blocking],
            )
        if blocking and not ctx.actor.may_prescribe:
            raise NotPermittedError("Only a prescriber may override a contraindication.")
        raised = []
        for finding in new:
            alert_id = record.raise_alert(
                ctx,
                finding=finding,
                rule_pack_version=self.pack.version,
                override_reason=override if finding in blocking else None,
            )
            raised.append(alert_summary(alert_id, finding))
        current = {f.key for f in findings}
        for alert in list(alerts):
            if (
                alert["status"] == "open"
                and alert["key"] not in current
                and not self.change_driven(alert["kind"], alert["rule_id"])
            ):
                record.resolve_alert_by_system(ctx, alert["alert_id"])
        return raised
