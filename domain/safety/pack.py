"""The rule pack: the versioned data file of clinical rules, loaded and checked whole.

The rules are data (``rulepack.json``, shipped in this package) so that pharmacists can
review and update them without touching code; every rule carries its source and how
firmly that source was checked. Loading validates everything: a pack with an unknown
class, a missing field, a misspelt severity or a repeated rule id is refused with an
error naming the rule, because a rule that silently never fires is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from domain.safety.assessments import ItemAbove, TotalRise, read_assessment
from domain.safety.change_interactions import (
    FactChangeRule,
    StopWithRule,
    read_fact_change,
    read_stop_with,
)
from domain.safety.condition_rules import ConditionRule, read_condition_rule
from domain.safety.coverage import HighRisk, read_high_risk
from domain.safety.dose_coverage import DoseCoverage, check_coverage, read_dose_coverage
from domain.safety.dose_limits import DoseLimit, read_dose_limit
from domain.safety.drugs import (
    ClassInfo,
    Combination,
    DrugIndex,
    DrugInfo,
    read_classes,
    read_combinations,
    read_drugs,
    test_key,
)
from domain.safety.duplicates import DuplicateRule, read_duplicate
from domain.safety.fact_interactions import FactStateRule, read_fact_state
from domain.safety.identity import Identity, identify
from domain.safety.interactions import PairRule, read_pair
from domain.safety.lab_ranges import LabRange, read_lab_range
from domain.safety.measurement_care import CareRule, read_measurement_care
from domain.safety.monitoring import (
    LabTest,
    MonitoringRule,
    read_lab_tests,
    read_monitoring,
    test_names,
)
from domain.safety.pgx_rules import PgxRule, UnreadRule, read_pgx_rule, read_unread_rule
from domain.safety.pgx_untested import UntestedRule, read_untested_rule
from domain.safety.records import (
    Provenance,
    Record,
    RulePackError,
    Vocabulary,
    check_template,
    rule_record,
)
from domain.safety.side_effects import SideEffectRule, read_side_effect
from domain.safety.tapering import TaperRule, read_taper
from domain.safety.titration import WeeklySchedule, read_weekly
from domain.safety.titration_steps import (
    MinInterval,
    StepLimits,
    read_min_interval,
    read_step_limits,
)
from domain.safety.washout import WashoutRule, read_washout

__all__ = ["DrugInfo", "RulePack", "RulePackError", "default_pack", "load_rule_pack"]

Interaction = PairRule | DuplicateRule | FactChangeRule | StopWithRule | FactStateRule
Titration = WeeklySchedule | StepLimits | MinInterval
Reader = Callable[[Record, str, Vocabulary], Any]

INTERACTION_TYPES: dict[str, Reader] = {
    "pair": read_pair, "duplicate": read_duplicate, "fact_change": read_fact_change,
    "stop_with": read_stop_with, "fact_state": read_fact_state,
}  # fmt: skip
TITRATION_TYPES: dict[str, Reader] = {
    "weekly_schedule": read_weekly, "step_limits": read_step_limits,
    "min_interval": read_min_interval,
}  # fmt: skip
DISCLAIMER = "requires clinical review before use with real patients"


@dataclass(frozen=True)
class RulePack:
    """Every rule, drug and class of one version of the pack."""

    version: str
    disclaimer: str
    classes: Mapping[str, ClassInfo]
    drugs: Mapping[str, DrugInfo]
    lab_tests: Mapping[str, LabTest]
    interactions: tuple[Interaction, ...]
    dose_limits: tuple[DoseLimit, ...]
    tapers: tuple[TaperRule, ...]
    titrations: tuple[Titration, ...]
    washouts: tuple[WashoutRule, ...]
    monitoring: tuple[MonitoringRule, ...]
    assessments: tuple[ItemAbove | TotalRise, ...]
    lab_ranges: tuple[LabRange, ...]
    unknown_drug: Provenance
    side_effects: tuple[SideEffectRule, ...]
    index: DrugIndex = field(repr=False, compare=False)
    test_names: Mapping[str, str] = field(repr=False, compare=False)
    condition_rules: tuple[ConditionRule, ...] = ()
    combinations: Mapping[str, Combination] = field(default_factory=dict)
    unknown_high_risk: HighRisk | None = None  # an unknown drug beside a dangerous one
    dose_coverage: DoseCoverage | None = None  # which drugs must have a maximum
    pharmacogenomic_rules: tuple[PgxRule | UnreadRule | UntestedRule, ...] = ()
    measurement_care: tuple[CareRule, ...] = ()

    def drug(self, name: str) -> DrugInfo | None:
        """The drug a typed name means (brand, salt, any case, "Zoloft (sertraline)"), or
        None if not in the pack or a combination (see ``identify``)."""
        return self.index.find(name) or identify(self.index, name).single

    def identify(self, name: str) -> Identity:
        """Every ingredient a typed name means (a combination product has several)."""
        return identify(self.index, name)

    def lab_test(self, name: str) -> str | None:
        """The pack's name for a recorded test or measure ("eGFR" -> "renal_function")."""
        return test_key(name, self.test_names)

    def rule_ids(self) -> tuple[str, ...]:
        rules: list[Any] = [
            *self.interactions, *self.dose_limits, *self.tapers, *self.titrations,
            *self.washouts, *self.monitoring, *self.assessments, *self.lab_ranges,
            *self.side_effects,
        ]  # fmt: skip
        rules.extend(self.condition_rules)
        rules.extend(self.pharmacogenomic_rules)
        rules.extend(self.measurement_care)
        return tuple(r.rule.id for r in rules)


def _section(
    raw: Mapping[str, Any],
    name: str,
    vocabulary: Vocabulary,
    readers: Mapping[str, Reader],
    default: str,
) -> tuple[Any, ...]:
    items = raw.get(name)
    if not isinstance(items, list):
        raise RulePackError(f"pack: field {name!r} must be a list of rules")
    rules = []
    for index, item in enumerate(items):
        record, rule_id = rule_record(item, name, index)
        kind = record.choice("type", tuple(readers), default) if len(readers) > 1 else default
        rules.append(readers[kind](record, rule_id, vocabulary))
    return tuple(rules)


def _one(reader: Reader) -> dict[str, Reader]:
    return {"rule": reader}


def parse_pack(raw: Any) -> RulePack:
    """Build and validate a pack from its decoded JSON."""
    top = Record(raw, "pack")
    version, disclaimer = top.text("version"), top.text("disclaimer")
    if DISCLAIMER not in disclaimer:
        raise top.fail("disclaimer", f"must say the pack {DISCLAIMER}")
    classes = read_classes(raw.get("classes"))
    drugs = read_drugs(raw.get("drugs"), classes)
    tests = read_lab_tests(raw.get("lab_tests"))
    vocabulary = Vocabulary(frozenset(classes), frozenset(drugs), frozenset(tests))
    unknown_record = top.child("unknown_drug")
    unknown = unknown_record.provenance(unknown_record.text("id"), "info")
    check_template(unknown_record, "message", unknown.message, {"drug"})
    combinations = read_combinations(raw.get("combinations"), drugs)
    high_risk = (
        read_high_risk(top.child("unknown_drug_high_risk"), vocabulary)
        if top.has("unknown_drug_high_risk")
        else None
    )
    coverage = (
        read_dose_coverage(top.child("dose_coverage"), vocabulary)
        if top.has("dose_coverage")
        else None
    )
    sections = {
        name: _section(raw, name, vocabulary, readers, default)
        for name, readers, default in (
            ("interactions", INTERACTION_TYPES, "pair"),
            ("dose_limits", _one(read_dose_limit), "rule"),
            ("tapers", _one(read_taper), "rule"),
            ("titrations", TITRATION_TYPES, "weekly_schedule"),
            ("washouts", _one(read_washout), "rule"),
            ("monitoring", _one(read_monitoring), "rule"),
            ("assessments", _one(read_assessment), "rule"),
            ("lab_ranges", _one(read_lab_range), "rule"),
            ("side_effect_rules", _one(read_side_effect), "rule"),
        )
    }
    side_effects = sections.pop("side_effect_rules")
    if raw.get("condition_rules") is not None:  # optional: a pack may have none
        sections["condition_rules"] = _section(
            raw, "condition_rules", vocabulary, _one(read_condition_rule), "rule"
        )
    if raw.get("pharmacogenomic_rules") is not None:  # optional, like condition_rules
        readers = {"recommendation": read_pgx_rule, "not_interpretable": read_unread_rule}
        readers["genotype_required"] = read_untested_rule
        sections["pharmacogenomic_rules"] = _section(
            raw, "pharmacogenomic_rules", vocabulary, readers, "recommendation"
        )
    if raw.get("measurement_based_care") is not None:  # optional, like condition_rules
        sections["measurement_care"] = _section(
            raw, "measurement_based_care", vocabulary, _one(read_measurement_care), "rule"
        )
    pack = RulePack(
        version=version,
        side_effects=side_effects,
        disclaimer=disclaimer,
        classes=classes,
        drugs=drugs,
        lab_tests=tests,
        unknown_drug=unknown,
        index=DrugIndex(drugs, combinations),
        test_names=test_names(tests),
        combinations=combinations,
        unknown_high_risk=high_risk,
        dose_coverage=coverage,
        **sections,
    )
    _check_ids(pack)
    if coverage is not None:
        check_coverage(coverage, pack.dose_limits, drugs)
    return pack


def _check_ids(pack: RulePack) -> None:
    seen = {pack.unknown_drug.id}
    for rule_id in pack.rule_ids():
        if rule_id in seen:
            raise RulePackError(f"rule {rule_id}: field 'id' is used by more than one rule")
        seen.add(rule_id)
    pairs = {r.rule.id for r in pack.interactions if isinstance(r, PairRule)}
    for rule in pack.interactions:
        if isinstance(rule, PairRule):
            for other in rule.superseded_by:
                if other not in pairs or other == rule.rule.id:
                    raise RulePackError(
                        f"rule {rule.rule.id}: field 'superseded_by' names {other!r}, "
                        "which is not another pair rule"
                    )


def load_rule_pack(path: Path | None = None) -> RulePack:
    """Load and validate a pack; by default the one shipped with CareLog."""
    try:
        if path is None:
            text = resources.files("domain.safety").joinpath("rulepack.json").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise RulePackError(f"pack: cannot read the rule pack: {exc}") from exc
    return parse_pack(raw)


@cache
def default_pack() -> RulePack:
    """The shipped pack, loaded once per process."""
    return load_rule_pack()
