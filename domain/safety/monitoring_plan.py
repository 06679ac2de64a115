"""Monitoring as one alert per prescription: the checks it needs, each with its schedule.

``check_monitoring`` finds the next due check per course and test; a new antipsychotic
alone needs five (weight, waist, blood pressure, glucose, lipids), and five alerts at
once for one decision bury the ones that matter. Here the checks of one prescription
(the same orders) become one finding that lists them, earliest first, each with what it
is for and how it goes on ("then at weeks 4, 8, 12, then every 13 weeks"). Its key names
the orders only, so when a result comes in or a date moves the alert is superseded by
one with the current schedule rather than closed and opened again. Whatever
``check_monitoring`` decides (which result satisfies a check) is kept as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from domain.safety.context import Finding
from domain.safety.monitoring import MonitoringRule
from domain.safety.monitoring_schedules import (
    AfterEvents,
    Baseline,
    Rolling,
    Schedule,
)
from domain.safety.plan_view import Course, PlanView
from domain.safety.wording import SEVERITY_RANK, day, key, mg

KEY = "MONITORING"
"""The key prefix of a prescription's monitoring alert (followed by its orders)."""


def _weeks(days: Iterable[float]) -> str:
    weeks = [mg(d / 7) for d in days]
    return weeks[0] if len(weeks) == 1 else ", ".join(weeks[:-1]) + " and " + weeks[-1]


EVERY = {7: "weekly", 14: "every 2 weeks", 30: "monthly", 91: "every 3 months"}
EVERY.update({182: "every 6 months", 183: "every 6 months", 365: "yearly"})


def _every(days: float) -> str:
    return EVERY.get(round(days), f"every {mg(days)} days")


def describe(schedule: Schedule, on_treatment_days: float = 0.0) -> str:
    """How a schedule goes on, as a clinician says it, from ``on_treatment_days`` into
    the therapy (a continuing course is past the first phases)."""
    if isinstance(schedule, AfterEvents):
        events = {
            "start": "the start",
            "dose_change": "each dose change",
            "partner_start": "an interacting drug's start",
            "partner_stop": "an interacting drug's stop",
        }
        when = ", ".join(events[e] for e in sorted(schedule.events, key=list(events).index))
        return f"{mg(schedule.from_days)}-{mg(schedule.due_days)} days after {when}"
    if isinstance(schedule, Baseline):
        return "once, before the start"
    if isinstance(schedule, Rolling):
        phases = [
            p for p in schedule.phases if p.until_day is None or on_treatment_days < p.until_day
        ]
        return ", then ".join(p.label for p in phases)
    parts = []
    days = [d for d in schedule.days if d > on_treatment_days]
    if days:
        parts.append(f"at week {_weeks(days)}")
    if schedule.then_every_days is not None:
        parts.append(_every(schedule.then_every_days))
    return ", then ".join(parts) or "as scheduled"


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _lines(
    items: list[Finding],
    course: Course | None,
    rules: dict[str, MonitoringRule],
    labels: dict[str, str],
) -> list[str]:
    """The checks, those due on the same date for the same reason and going on alike
    said together: "Blood pressure, fasting glucose and lipids due by ...; then ..."."""
    label = course.label if course else "this medication"
    into = 0.0
    if course is not None and course.continuing_since and course.start:
        into = (course.start - course.continuing_since).total_seconds() / 86400
    together: dict[tuple[str, str], list[str]] = {}
    for f in items:
        text = f.message.rstrip(". ").replace(f" for {label}", "")
        rule = rules.get(f.rule_id)
        then = f" (then {describe(rule.schedule, into)})" if rule else ""
        name = labels.get(f.test or "", "")
        if name and text.startswith(name + " "):
            together.setdefault((text[len(name) :], then), []).append(name)
        else:
            together.setdefault(("", then), []).append(text)
    lines = []
    for (tail, then), names in together.items():
        first, *rest = names
        lines.append(_joined([first, *(n[:1].lower() + n[1:] for n in rest)]) + tail + then)
    return lines


def _course(view: PlanView, finding: Finding, rule: MonitoringRule | None) -> Course | None:
    """The monitored course: the finding's order whose drug the rule is for."""
    courses = [c for c in view.courses if c.order_id in finding.order_ids]
    if rule is not None:
        courses = [c for c in courses if rule.drugs.matches(c)] or courses
    return courses[0] if courses else None


def _started(course: Course) -> str:
    since, start = course.continuing_since, course.start
    if since is not None and start is not None:
        return f"continuing since {day(since)}, taken over {day(start)}"
    return f"started {day(start)}" if start is not None else "not started"


def group_monitoring(
    findings: list[Finding],
    rules: tuple[MonitoringRule, ...],
    view: PlanView,
    labels: dict[str, str],
) -> list[Finding]:
    """One ``monitoring_due`` finding per set of orders, listing its checks."""
    by_id = {r.rule.id: r for r in rules}
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.order_ids, []).append(f)
    grouped = []
    for orders, items in sorted(groups.items()):
        items.sort(key=lambda f: (f.due_at is None, f.due_at, f.test or "", f.rule_id))
        first = items[0]
        course = _course(view, first, by_id.get(first.rule_id))
        label = course.label if course else "this medication"
        lines = _lines(items, course, by_id, labels)
        started = f" ({_started(course)})" if course else ""
        message = f"Monitoring for {label}{started}: " + "; ".join(lines) + "."
        worst = min(items, key=lambda f: SEVERITY_RANK.get(f.severity, 99))
        grouped.append(
            replace(
                first,
                key=key(KEY, orders),
                severity=worst.severity,
                message=message,
                action=" ".join(dict.fromkeys(f.action for f in items)),
                source="; ".join(dict.fromkeys(f.source for f in items)),
                evidence="V" if all(f.evidence == "V" for f in items) else "K",
                blocking=any(f.blocking for f in items),
            )
        )
    return grouped
