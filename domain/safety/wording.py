"""How findings are worded and keyed: numbers and dates as a clinician reads them.

Keys are built from the rule, the sorted order ids and (where the rule has one) the test,
so the same finding keeps the same key however the medication list is ordered. Findings
about one change (an abrupt stop, a titration step) add the change's effective time, so
a second too-fast step is a new alert, not a repeat of the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.safety.context import Finding
from domain.safety.records import SEVERITIES, Provenance

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def mg(value: float) -> str:
    """40.0 -> "40", 12.5 -> "12.5", 1/3 -> "0.33"."""
    return f"{round(value, 2):g}"


def day(moment: datetime) -> str:
    return moment.date().isoformat()


def sentence(text: str) -> str:
    """Capitalise the first letter only (drug names inside keep their case); a first word
    already in mixed case ("eGFR", "mL") is an abbreviation and is kept as written."""
    first = text.split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):
        return text
    return text[:1].upper() + text[1:] if text else text


def key(rule_id: str, order_ids: Iterable[str], *parts: str) -> str:
    return "|".join((rule_id, "+".join(sorted(set(order_ids))), *parts))


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def finding(
    rule: Provenance,
    kind: str,
    order_ids: Iterable[str],
    message: str,
    *,
    key_parts: tuple[str, ...] = (),
    severity: str | None = None,
    action: str | None = None,
    due_at: datetime | None = None,
    test: str | None = None,
) -> Finding:
    """A finding of ``rule``; contraindicated findings block the write."""
    orders = tuple(sorted(set(order_ids)))
    level = severity or rule.severity
    return Finding(
        key=key(rule.id, orders, *key_parts),
        rule_id=rule.id,
        kind=kind,
        severity=level,
        message=sentence(message),
        action=action or rule.action,
        source=rule.source,
        evidence=rule.evidence,
        order_ids=orders,
        due_at=due_at,
        test=test,
        blocking=level == "contraindicated",
    )
