"""Reading rule records out of the pack's JSON, field by field, with errors that name them.

A malformed rule pack must never load half-way: a rule whose severity is misspelt or whose
class does not exist would silently never fire. Every reader here raises ``RulePackError``
naming the rule id and the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("urgent", "contraindicated", "major", "moderate", "minor", "info")
"""From most to least pressing; ``urgent`` is reserved for suicide risk."""
EVIDENCE = ("V", "K")
"""V: checked against the cited source text; K: from the cited document as commonly known."""


class RulePackError(Exception):
    """The rule pack is malformed; the message names the rule id and the field."""


@dataclass(frozen=True)
class Vocabulary:
    """The names a rule may refer to: classes, drugs (generic keys) and lab tests."""

    classes: frozenset[str]
    drugs: frozenset[str]
    tests: frozenset[str]


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from and how firmly: shown with every finding."""

    id: str
    severity: str
    message: str
    action: str
    source: str
    evidence: str


@dataclass(frozen=True)
class PackRule:
    """What every rule of the pack carries first: its provenance (id, severity, message,
    action, source, evidence), shown with each finding it raises."""

    rule: Provenance


class Record:
    """One JSON object of the pack, read with the rule id at hand for error messages."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise RulePackError(f"{where}: expected an object, got {type(raw).__name__}")
        self.raw: Mapping[str, Any] = raw
        self.where = where

    def fail(self, field: str, problem: str) -> RulePackError:
        return RulePackError(f"{self.where}: field {field!r} {problem}")

    def has(self, field: str) -> bool:
        return field in self.raw and self.raw[field] is not None

    def text(self, field: str, default: str | None = None) -> str:
        value = self.raw.get(field, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "is missing or not a non-empty string")
        return value.strip()

    def number(self, field: str, default: float | None = None) -> float:
        value = self.raw.get(field, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(field, "is missing or not a non-negative number")
        return float(value)

    def flag(self, field: str, default: bool) -> bool:
        value = self.raw.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(field, "must be true or false")
        return value

    def texts(self, field: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.raw.get(field, default)
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.fail(field, "is missing or not a list of strings")
        return tuple(item.strip() for item in value)

    def numbers(self, field: str) -> tuple[float, ...]:
        value = self.raw.get(field, [])
        if not isinstance(value, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            raise self.fail(field, "must be a list of non-negative numbers")
        return tuple(float(v) for v in value)

    def records(self, field: str) -> tuple[Record, ...]:
        value = self.raw.get(field, [])
        if not isinstance(value, list):
            raise self.fail(field, "must be a list")
        return tuple(Record(item, f"{self.where} {field}[{n}]") for n, item in enumerate(value))

    def child(self, field: str) -> Record:
        if field not in self.raw:
            raise self.fail(field, "is missing")
        return Record(self.raw[field], f"{self.where} {field}")

    def choice(self, field: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(field, default)
        if value not in allowed:
            raise self.fail(field, f"is {value!r}, not one of {', '.join(allowed)}")
        return value

    def names(self, field: str, known: frozenset[str], what: str) -> tuple[str, ...]:
        """A list of names that must all exist in the pack (classes, drugs or tests)."""
        names = self.texts(field, ())
        for name in names:
            if name not in known:
                raise self.fail(field, f"names an unknown {what} {name!r}")
        return names

    def provenance(self, rule_id: str, severity: str | None = None) -> Provenance:
        return Provenance(
            id=rule_id,
            severity=severity or self.choice("severity", SEVERITIES),
            message=self.text("message"),
            action=self.text("action"),
            source=self.text("source"),
            evidence=self.choice("evidence", EVIDENCE),
        )

    def template(self, field: str, placeholders: set[str], *, used: bool = True) -> str:
        """A message template of the rule, checked against the placeholders its rule family
        fills in; "" (not read at all) where the rule does not use it."""
        if not used:
            return ""
        text = self.text(field)
        check_template(self, field, text, placeholders)
        return text

    def rule(self, rule_id: str, placeholders: set[str]) -> Provenance:
        """A rule's provenance, its message checked against the placeholders its rule
        family fills in."""
        rule = self.provenance(rule_id)
        check_template(self, "message", rule.message, placeholders)
        return rule


def rule_record(raw: Any, section: str, index: int) -> tuple[Record, str]:
    """A rule's record and its id, which every rule must have."""
    record = Record(raw, f"{section}[{index}]")
    rule_id = record.text("id")
    return Record(raw, f"rule {rule_id} ({section})"), rule_id


def check_template(record: Record, field: str, text: str, placeholders: set[str]) -> None:
    """A message template may only use the placeholders its rule family fills in."""
    try:
        text.format(**{name: "x" for name in placeholders})
    except (KeyError, IndexError, ValueError) as exc:
        raise record.fail(field, f"uses an unknown placeholder {exc}") from None
