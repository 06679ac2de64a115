"""Drugs read against the whole patient: conditions, pregnancy and lactation, sex, age.

Bupropion with epilepsy or bulimia on the problem list, valproate in pregnancy or in a
woman who could become pregnant, an antipsychotic in dementia, citalopram with a long QT
syndrome, an antidepressant under 25, a benzodiazepine at 65 and over: each is one record
of the pack's ``condition_rules`` section. A rule holds while one of its drugs is active
and every criterion it states holds:

- ``problems``: an ICD-10-CM code on the problem list starting with one of ``codes``
  (``"G40"`` matches G40.909; an entry ``{"code": "I21", "within_days": 90}`` only while
  the condition began within that many days), or a clinical fact with one of its values
  (``{"fact": "seizure_disorder", "in": ["yes"]}``), so a fact recorded before conditions
  existed keeps working;
- ``pregnancy`` / ``pregnancy_not``: the latest pregnancy status is / is not one of these
  (no status on record is "not pregnant": a rule needing a pregnancy stays silent);
- ``sex_at_birth``: the recorded sex at birth is one of these (unknown: silent);
- ``age_from`` / ``age_below``: age in completed years at least / under.

It is a state rule: recording or resolving a condition or a pregnancy status re-runs it
against the drugs already active, and a finding that no longer holds (the condition
resolved, the pregnancy over) is closed. As for clinical facts, a condition write is never
refused: a contraindication it reveals is an alert that says so, and prescribing the drug
afterwards is refused unless a prescriber overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from domain.problem_list import PREGNANCY_STATUSES, SEXES_AT_BIRTH, normalise_code
from domain.safety.context import Condition, Finding
from domain.safety.drugs import normalise_name
from domain.safety.implied_facts import pregnancy_from_facts, sex_from_facts
from domain.safety.matching import Side, labels, matching, read_side
from domain.safety.plan_view import PlanView
from domain.safety.records import PackRule, Record, Vocabulary
from domain.safety.wording import finding

PLACEHOLDERS = {"drug", "condition", "age"}
CONDITION_WRITE_NOTE = (
    " The entry was recorded, not refused (what is true of the patient is never blocked):"
    " review {drug} now."
)
PRESCRIBING = frozenset({"prescribed", "dose_changed"})
PREGNANCY_WORDS = {
    "pregnant": "pregnancy",
    "lactating": "breastfeeding (lactation)",
    "postpartum": "the postpartum period",
    "not_pregnant": "not pregnant",
}


@dataclass(frozen=True)
class CodePrefix:
    """An ICD-10-CM code prefix, compared without the dot; optionally only recent."""

    prefix: str  # "G40", "F500" (F50.0), "I4581" (I45.81)
    within_days: int | None = None

    def matches(self, condition: Condition, view: PlanView) -> bool:
        if not normalise_code(condition.code).replace(".", "").startswith(self.prefix):
            return False
        if self.within_days is None:
            return True
        began = condition.onset or condition.since.date()
        return view.context.now.date() - began <= timedelta(days=self.within_days)


@dataclass(frozen=True)
class FactValue:
    fact: str  # normalised
    values: frozenset[str]


@dataclass(frozen=True)
class ConditionRule(PackRule):
    drug: Side
    except_drugs: frozenset[str]
    codes: tuple[CodePrefix, ...] = ()
    facts: tuple[FactValue, ...] = ()
    pregnancy: frozenset[str] = frozenset()
    pregnancy_not: frozenset[str] = frozenset()
    sex_at_birth: frozenset[str] = frozenset()
    age_from: int | None = None
    age_below: int | None = None

    @property
    def kind(self) -> str:
        """``condition`` (problem list), ``pregnancy`` (pregnancy, lactation or the
        potential for it) or ``age``."""
        if self.codes or self.facts:
            return "condition"
        return "pregnancy" if self.pregnancy or self.pregnancy_not or self.sex_at_birth else "age"


def _code(record: Record, raw: object) -> CodePrefix:
    if isinstance(raw, str):
        text, within = raw, None
    elif isinstance(raw, dict):
        child = Record(raw, f"{record.where} codes")
        text, within = child.text("code"), int(child.number("within_days"))
    else:
        raise record.fail("codes", "must list codes or {code, within_days} objects")
    prefix = normalise_code(text).replace(".", "")
    if not prefix or not prefix[0].isalpha():
        raise record.fail("codes", f"names {text!r}, not an ICD-10-CM code prefix")
    return CodePrefix(prefix, within)


def _subset(record: Record, field: str, allowed: tuple[str, ...]) -> frozenset[str]:
    values = frozenset(record.texts(field, ()))
    unknown = sorted(values - set(allowed))
    if unknown:
        raise record.fail(field, f"names {', '.join(unknown)}, not one of {', '.join(allowed)}")
    return values


def read_condition_rule(record: Record, rule_id: str, vocabulary: Vocabulary) -> ConditionRule:
    rule = record.rule(rule_id, PLACEHOLDERS)
    codes: tuple[CodePrefix, ...] = ()
    facts: tuple[FactValue, ...] = ()
    if record.has("problems"):
        problems = record.child("problems")
        raw_codes = problems.raw.get("codes", [])
        if not isinstance(raw_codes, list):
            raise problems.fail("codes", "must be a list")
        codes = tuple(_code(problems, raw) for raw in raw_codes)
        facts = tuple(
            FactValue(
                normalise_name(item.text("fact")), frozenset(v.lower() for v in item.texts("in"))
            )
            for item in problems.records("facts")
        )
        if not codes and not facts:
            raise problems.fail("codes", "and 'facts' are both empty: the rule would never fire")
    found = ConditionRule(
        rule=rule,
        drug=read_side(record.child("drug"), vocabulary),
        except_drugs=frozenset(record.names("except_drugs", vocabulary.drugs, "drug")),
        codes=codes,
        facts=facts,
        pregnancy=_subset(record, "pregnancy", PREGNANCY_STATUSES),
        pregnancy_not=_subset(record, "pregnancy_not", PREGNANCY_STATUSES),
        sex_at_birth=_subset(record, "sex_at_birth", SEXES_AT_BIRTH),
        age_from=int(record.number("age_from")) if record.has("age_from") else None,
        age_below=int(record.number("age_below")) if record.has("age_below") else None,
    )
    if not (codes or facts or found.pregnancy or found.sex_at_birth) and (
        found.age_from is None and found.age_below is None
    ):
        raise record.fail("problems", "is missing, and no pregnancy, sex or age criterion")
    return found


def _problems(rule: ConditionRule, view: PlanView) -> tuple[list[str], list[str]] | None:
    """(what holds, as a message names it; key parts), or None if no problem holds."""
    named, keys = [], []
    for condition in view.context.conditions:
        if any(code.matches(condition, view) for code in rule.codes):
            named.append(f"{condition.display} ({condition.code})")
            # with its start: a diagnosis resolved and made again is a new finding
            keys.append(f"{condition.condition_id}@{condition.since.isoformat()}")
    recorded = {  # as recorded: the facts a coded condition implies are matched by code
        normalise_name(name): " ".join(value.lower().split())
        for name, value in view.context.facts.items()
    }
    for fact in rule.facts:
        value = recorded.get(fact.fact)
        if value is not None and value in fact.values:
            named.append(f"{fact.fact}: {value}")
            keys.append(f"fact:{fact.fact}")
    return (named, keys) if named else None


def _holds(rule: ConditionRule, view: PlanView) -> tuple[str, tuple[str, ...]] | None:
    """What about the patient makes the rule hold (for the message) and the key parts."""
    parts: list[str] = []
    keys: list[str] = []
    if rule.codes or rule.facts:
        found = _problems(rule, view)
        if found is None:
            return None
        parts.append(" and ".join(sorted(set(found[0]))))
        keys.extend(sorted(found[1]))
    pregnancy = view.context.pregnancy
    stated = None if pregnancy else pregnancy_from_facts(view.facts)
    status = pregnancy.status if pregnancy else stated[0] if stated else "not_pregnant"
    if rule.pregnancy:
        if status not in rule.pregnancy:
            return None
        if pregnancy is not None:
            as_of = pregnancy.as_of.isoformat()
            parts.append(f"{PREGNANCY_WORDS[status]} (recorded as of {as_of})")
            keys.append(f"pregnancy:{pregnancy.event_id}")
        elif stated is not None:
            parts.append(f"{PREGNANCY_WORDS[status]} (clinical fact {stated[1]})")
            keys.append(f"pregnancy:fact:{status}")
    if rule.pregnancy_not and status in rule.pregnancy_not:
        return None
    sex = view.context.sex_at_birth or sex_from_facts(view.facts)
    if rule.sex_at_birth and sex not in rule.sex_at_birth:
        return None
    if rule.age_from is not None or rule.age_below is not None:
        if view.age is None:
            return None
        if rule.age_from is not None and view.age < rule.age_from:
            return None
        if rule.age_below is not None and view.age >= rule.age_below:
            return None
    if not parts:
        shown = sex if rule.sex_at_birth else None
        parts.append(f"a {view.age}-year-old" + (f" ({shown} at birth)" if shown else ""))
    return "; ".join(parts), tuple(keys)


def check_condition_rules(rules: tuple[ConditionRule, ...], view: PlanView) -> list[Finding]:
    """Every rule that holds for the patient while one of its drugs is active."""
    # Only a prescription or a dose change is refused for a contraindication: any other
    # write (a condition, a fact, an assessment's diagnosis) records what is true.
    prescribing = view.change.kind in PRESCRIBING
    findings = []
    for rule in rules:
        courses = tuple(
            c for c in matching(view.active, rule.drug) if c.drug not in rule.except_drugs
        )
        if not courses:
            continue
        held = _holds(rule, view)
        if held is None:
            continue
        what, key_parts = held
        drug = labels(courses)
        message = rule.rule.message.format(drug=drug, condition=what, age=view.age)
        found = finding(
            rule.rule, rule.kind, [c.order_id for c in courses], message, key_parts=key_parts
        )
        facts = [part[5:] for part in key_parts if part.startswith("fact:")]
        if facts:  # a new value of the fact brings a resolved finding back (safety_check)
            found = replace(found, fact=facts[0])
        if found.blocking and not prescribing:
            found = replace(
                found,
                message=found.message + CONDITION_WRITE_NOTE.format(drug=drug),
                blocking=False,
            )
        findings.append(found)
    return findings
