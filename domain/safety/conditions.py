"""Conditions on the patient that change a limit or pick a schedule.

"20 mg/day if over 60", "half the dose with a strong CYP2D6 inhibitor", "the valproate
schedule": a condition holds or not for a patient, and when it holds because of other
drugs it says which, so that the message can name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.safety.matching import Side, matching, read_side
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import Record, Vocabulary


@dataclass(frozen=True)
class AgeOver:
    """Age in completed years strictly greater than ``years``."""

    years: int


@dataclass(frozen=True)
class FactIn:
    """A clinical fact (e.g. ``cyp2d6_metaboliser``) has one of the values."""

    fact: str
    values: frozenset[str]


@dataclass(frozen=True)
class With:
    """Another active drug of the side is in the plan."""

    side: Side


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = AgeOver | FactIn | With | AnyOf | AllOf | Not


def read_condition(record: Record, vocabulary: Vocabulary) -> Condition:
    """One condition object: exactly one of age_over, fact, with, any, all, not."""
    keys = [k for k in ("age_over", "fact", "with", "any", "all", "not") if k in record.raw]
    if len(keys) != 1:
        raise record.fail("when", "needs exactly one of age_over, fact, with, any, all, not")
    key = keys[0]
    if key == "age_over":
        return AgeOver(int(record.number("age_over")))
    if key == "fact":
        values = frozenset(v.lower() for v in record.texts("in"))
        return FactIn(record.text("fact"), values)
    if key == "with":
        return With(read_side(record.child("with"), vocabulary))
    if key == "not":
        return Not(read_condition(record.child("not"), vocabulary))
    items = tuple(read_condition(item, vocabulary) for item in record.records(key))
    if not items:
        raise record.fail(key, "is empty")
    return AnyOf(items) if key == "any" else AllOf(items)


def holds(condition: Condition, view: PlanView, subject: str) -> tuple[Course, ...] | None:
    """None if the condition does not hold for the patient on ``subject`` (a generic name);
    else the co-medications that make it hold (empty when it is about the patient)."""
    if isinstance(condition, AgeOver):
        return () if view.age is not None and view.age > condition.years else None
    if isinstance(condition, FactIn):
        return () if view.fact(condition.fact) in condition.values else None
    if isinstance(condition, With):
        found = matching(view.others(subject), condition.side)
        return found or None
    if isinstance(condition, Not):
        return () if holds(condition.item, view, subject) is None else None
    results = [holds(item, view, subject) for item in condition.items]
    met = [r for r in results if r is not None]
    if isinstance(condition, AllOf) and len(met) < len(results):
        return None
    if not met:
        return None
    return tuple(c for found in met for c in found)
