"""Builders for safety-rule test cases: courses, contexts, and witnesses from the pack data.

The rule tests are generated from ``rulepack.json``: for each rule they pick drugs the
rule covers (its "witnesses") and build a plan where it must fire and one where it must
not. Witness choice avoids drugs that would bring in a more specific rule instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from domain.safety import (
    AssessmentPoint,
    Change,
    DoseStep,
    Finding,
    LabResult,
    MedicationCourse,
    PatientContext,
    default_pack,
    evaluate,
)
from domain.safety.conditions import AgeOver, AllOf, AnyOf, Condition, FactIn, Not, With
from domain.safety.matching import Side

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PACK = default_pack()


def days(n: float) -> timedelta:
    return timedelta(days=n)


def step(at: datetime, amount: float, frequency: str = "once daily", unit: str = "mg") -> DoseStep:
    return DoseStep(at, amount, unit, frequency)


def course(
    order_id: str,
    drug: str,
    amount: float = 10.0,
    frequency: str = "once daily",
    *,
    start: datetime = T0,
    stopped_at: datetime | None = None,
    route: str = "oral",
    taper: str | None = None,
    steps: Iterable[DoseStep] | None = None,
) -> MedicationCourse:
    doses = tuple(steps) if steps is not None else (step(start, amount, frequency),)
    return MedicationCourse(order_id, drug, route, doses, stopped_at, taper)


def context(
    *medications: MedicationCourse,
    now: datetime | None = None,
    birth_date: date | None = None,
    facts: Mapping[str, str] | None = None,
    assessments: Iterable[AssessmentPoint] = (),
    labs: Iterable[LabResult] = (),
) -> PatientContext:
    return PatientContext(
        now=now or T0 + days(1),
        birth_date=birth_date,
        facts=dict(facts or {}),
        medications=tuple(medications),
        assessments=tuple(
            sorted(assessments, key=lambda a: a.effective_at)
        ),  # as the plan keeps them
        labs=tuple(labs),
    )


def born_aged(years: int, at: datetime = T0) -> date:
    """A birth date giving ``years`` completed years on ``at``."""
    return date(at.year - years, 1, 1)


def run(
    ctx: PatientContext,
    kind: str = "lab",
    at: datetime | None = None,
    order_id: str | None = None,
    **extra: str,
) -> list[Finding]:
    return evaluate(ctx, Change(kind, at or ctx.now, order_id, **extra))  # type: ignore[arg-type]


def by_rule(findings: Iterable[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def route_for(side: Side) -> str:
    return sorted(side.routes)[0] if side.routes else "oral"


def members(side: Side, avoid: Iterable[str] = ()) -> list[str]:
    avoided = set(avoid)
    return [d for d in side.members(PACK.drugs) if d not in avoided]


def satisfy(condition: Condition, subject: str, taken: set[str]) -> dict[str, object]:
    """Parts of a context that make ``condition`` hold: age, facts, extra courses."""
    if isinstance(condition, AgeOver):
        return {"birth_date": born_aged(condition.years + 1)}
    if isinstance(condition, FactIn):
        return {"facts": {condition.fact: sorted(condition.values)[0]}}
    if isinstance(condition, With):
        drug = next(d for d in members(condition.side, taken | {subject}))
        taken.add(drug)
        return {"courses": [course(f"with-{drug}", drug, route=route_for(condition.side))]}
    if isinstance(condition, Not):
        return {}
    if isinstance(condition, AnyOf):
        return satisfy(condition.items[0], subject, taken)
    assert isinstance(condition, AllOf)
    merged: dict[str, object] = {"courses": [], "facts": {}}
    for item in condition.items:
        part = satisfy(item, subject, taken)
        merged["courses"] = [*merged["courses"], *part.get("courses", [])]  # type: ignore[misc]
        merged["facts"] = {**merged["facts"], **part.get("facts", {})}  # type: ignore[dict-item]
        if "birth_date" in part:
            merged["birth_date"] = part["birth_date"]
    return merged


def with_extra(ctx: PatientContext, part: Mapping[str, object]) -> PatientContext:
    courses = tuple(part.get("courses", ()))  # type: ignore[call-overload]
    facts = {**ctx.facts, **part.get("facts", {})}  # type: ignore[dict-item]
    birth = part.get("birth_date", ctx.birth_date)
    return replace(ctx, medications=ctx.medications + courses, facts=facts, birth_date=birth)  # type: ignore[arg-type]
