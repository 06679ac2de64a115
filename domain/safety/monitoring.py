"""Monitoring due: the labs and measurements a drug needs, and when the next one is due.

Each rule ties a test (a lithium level, an ANC, weight ...) to the courses of some drugs
and a schedule. Every active course gets its next due check per test, overdue or
upcoming; of several rules for one test and course (a lithium level after a dose change,
and 6-monthly) the earliest due wins. A result of the test recorded after the check
became due-relevant satisfies it, and the next one takes its place: the key carries the
due date, so a satisfied check closes and the next opens as a new alert. This holds as
state: a check after a dose change stays due until a result comes in, whatever is
written in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.safety.conditions import Condition, holds, read_condition
from domain.safety.context import Finding
from domain.safety.drugs import normalise_name
from domain.safety.matching import Side, matching, read_side
from domain.safety.monitoring_schedules import Due, Schedule, next_due, read_schedule
from domain.safety.plan_view import Course, PlanView
from domain.safety.records import PackRule, Record, RulePackError, Vocabulary
from domain.safety.wording import day, finding

MONITORING_PLACEHOLDERS = {"drug", "test", "due", "reason"}


@dataclass(frozen=True)
class LabTest:
    """A test of the pack's vocabulary; results may be recorded under any of its aliases."""

    name: str
    label: str  # "Serum lithium level (12-hour trough)"
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class MonitoringRule(PackRule):
    """Courses of ``drugs`` need ``test`` on ``schedule`` (when ``when`` holds)."""

    drugs: Side
    test: str
    schedule: Schedule
    when: Condition | None


def read_lab_tests(raw: object) -> dict[str, LabTest]:
    if not isinstance(raw, dict) or not raw:
        raise RulePackError("pack: field 'lab_tests' is missing or empty")
    tests = {}
    for name, value in raw.items():
        record = Record(value, f"lab test {name}")
        if normalise_name(name).replace(" ", "_") != name:
            raise RulePackError(f"lab test {name}: the name must be lower case with underscores")
        tests[name] = LabTest(name, record.text("label"), record.texts("aliases", ()))
    return tests


def test_names(tests: dict[str, LabTest]) -> dict[str, str]:
    """Normalised name or alias -> test name, for reading recorded results."""
    names: dict[str, str] = {}
    for test in tests.values():
        for name in (test.name, *test.aliases):
            key = normalise_name(name)
            if names.get(key, test.name) != test.name:
                raise RulePackError(f"lab test {test.name}: alias {name!r} is used twice")
            names[key] = test.name
    return names


def read_monitoring(record: Record, rule_id: str, vocabulary: Vocabulary) -> MonitoringRule:
    rule = record.rule(rule_id, MONITORING_PLACEHOLDERS)
    test = record.text("test")
    if test not in vocabulary.tests:
        raise record.fail("test", f"names an unknown lab test {test!r}")
    return MonitoringRule(
        rule=rule,
        drugs=read_side(record.child("drugs"), vocabulary),
        test=test,
        schedule=read_schedule(record.child("schedule"), vocabulary),
        when=read_condition(record.child("when"), vocabulary) if record.has("when") else None,
    )


def _due(
    rule: MonitoringRule,
    view: PlanView,
    course: Course,
    abnormal: frozenset[tuple[str, datetime]] = frozenset(),
) -> Due | None:
    if rule.when is not None and holds(rule.when, view, course.drug) is None:
        return None
    # A result a lab-range rule finds out of range is not a check done and all well.
    results = [
        lab.effective_at
        for lab in view.labs(rule.test)
        if (rule.test, lab.effective_at) not in abnormal
    ]
    return next_due(rule.schedule, view, course, results)


def check_monitoring(
    rules: tuple[MonitoringRule, ...],
    view: PlanView,
    labels: dict[str, str],
    abnormal: frozenset[tuple[str, datetime]] = frozenset(),
) -> list[Finding]:
    """The next due check per course and test, among the active courses; ``abnormal``
    (test, time) results are out of range and satisfy nothing."""
    earliest: dict[tuple[str, str], tuple[Due, MonitoringRule, Course]] = {}
    for rule in rules:
        for course in matching(view.active, rule.drugs):
            due = _due(rule, view, course, abnormal)
            slot = (course.order_id, rule.test)
            best = earliest.get(slot)
            if due is not None and (
                best is None or (due.at, rule.rule.id) < (best[0].at, best[1].rule.id)
            ):
                earliest[slot] = (due, rule, course)
    findings = []
    for (_, test), (due, rule, course) in sorted(earliest.items()):
        message = rule.rule.message.format(
            drug=course.label, test=labels.get(test, test), due=day(due.at), reason=due.reason
        )
        findings.append(
            finding(
                rule.rule,
                "monitoring_due",
                [course.order_id, *due.order_ids],
                message,
                key_parts=(test, day(due.at)),
                due_at=due.at,
                test=test,
            )
        )
    return findings
