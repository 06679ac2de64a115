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
Open alerts the change made obsolete (an interaction whose drug was stopped, a dose lowered
under its maximum) are closed by CareLog itself (the system actor) as "no_longer_applies",
with the write that ended the condition as the reason; an open alert whose figures changed
(same rule, same orders, another message) is superseded by one raised with the current
figures, the old one closed as "superseded" naming the new alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any, overload

from domain.command_context import CommandContext
from domain.errors import NotPermittedError, SafetyBlockError
from domain.patient_record import PatientRecord
from domain.plan import PlanState
from domain.plan_entities import Order
from domain.plan_records import Assessment
from services.writing.alert_lifecycle import AlertLifecycle


class AssessmentPoints(Sequence[Any]):
    """The plan's assessments as the rules see them, each converted when a rule reads it:
    the rules read the few around the change, and a long record has thousands."""

    def __init__(self, assessments: list[Assessment]) -> None:
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
        return AssessmentPoint(a.instrument, a.total, a.item_scores, a.effective_at)


def patient_context(plan: PlanState, now: Any) -> Any:
    """The safety engine's view of a plan."""
    from domain.safety import (
        DoseStep,
        LabResult,
        MedicationCourse,
        PatientContext,
        SideEffect,
    )

    courses = tuple(
        MedicationCourse(
            order_id=order.order_id,
            drug=order.drug.get("generic") or order.drug["name"],
            formulation=order.drug.get("formulation"),
            route=order.route,
            steps=tuple(
                DoseStep(
                    step.effective_at,
                    float(step.dose["amount"]),
                    step.dose["unit"],
                    step.frequency,
                )
                for step in order.steps
            ),
            stopped_at=order.stopped_at,
            taper=order.taper,
            continuing_since=continuing_start(order),
            indication=order.indication,
            stop_reason=order.stop_reason,
            mg_per_ml=order.drug.get("mg_per_ml"),
        )
        for order in plan.orders.values()
    )
    born = plan.birth_date
    conditions, sex, pregnancy = person(plan)
    return PatientContext(
        now=now,
        birth_date=date.fromisoformat(born) if born else None,
        facts={name: fact.value for name, fact in plan.facts.items()},
        medications=courses,
        assessments=AssessmentPoints(plan.assessments),
        labs=tuple(LabResult(lab.test, lab.effective_at, lab.value, lab.unit) for lab in plan.labs),
        side_effects=tuple(
            SideEffect(
                effect.side_effect_id,
                effect.effect,
                effect.severity,
                effect.effective_at,
                effect.order_id,
            )
            for effect in plan.side_effects
        ),
        conditions=conditions,
        sex_at_birth=sex,
        pregnancy=pregnancy,
        pharmacogenomics=pharmacogenomic_results(plan),
    )


def pharmacogenomic_results(plan: PlanState) -> tuple[Any, ...]:
    """The pharmacogenomic results as the rules read them, in report order."""
    from domain.pharmacogenomics import results

    return results(plan)


def person(plan: PlanState) -> tuple[tuple[Any, ...], str | None, Any]:
    """The problem list, sex at birth and pregnancy status as the rules read them."""
    from domain.problem_list import active_conditions, pregnancy, sex_at_birth
    from domain.safety.context import Condition, PregnancyStatus

    conditions = tuple(
        Condition(
            condition_id=c["condition_id"],
            code=c["code"],
            display=c["display"],
            since=c["since"],
            onset=date.fromisoformat(c["onset_date"]) if c["onset_date"] else None,
            verification_status=c["verification_status"],
        )
        for c in active_conditions(plan)
    )
    status = pregnancy(plan)
    return (
        conditions,
        sex_at_birth(plan),
        PregnancyStatus(
            status=status.status,
            as_of=date.fromisoformat(status.as_of),
            expected_delivery=(
                date.fromisoformat(status.expected_delivery_date)
                if status.expected_delivery_date
                else None
            ),
            event_id=status.episode_id or status.event_id,
        )
        if status
        else None,
    )


def continuing_start(order: Order) -> datetime | None:
    """The true start of a continuing order's therapy, at midnight UTC of its date."""
    from domain.continuing import since_of

    since = since_of(order.continuing)
    return None if since is None else datetime.combine(since, time(), tzinfo=UTC)


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
        recorded = record.plan.facts.get(change.fact)
        current = recorded.value if recorded is not None else None
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
        open_keys = {a.key for a in alerts if a.status == "open"}
        seen_keys = {a.key for a in alerts}
        correction = bool(getattr(change, "correction", False))
        fact_write = change.kind == "fact"
        # A lab result, a side effect or a pharmacogenomic result records what was observed:
        # alerted on, never refused.
        observation = change.kind in ("lab", "side_effect", "pharmacogenomic")
        fact_write = fact_write or change.kind == "condition"  # what is true: never refused
        refact = self.refact(record, change)
        said = {(a.key, a.message) for a in alerts}
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
        blocking = [] if correction or fact_write or observation else [f for f in new if f.blocking]
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
        lifecycle = AlertLifecycle(record, ctx, self.pack.version, self.change_driven)
        raised += [alert_summary(i, f) for i, f in lifecycle.supersede(findings)]
        lifecycle.close_obsolete(findings, change)
        return raised
