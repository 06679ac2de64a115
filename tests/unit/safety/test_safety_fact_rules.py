"""Drugs with a recorded clinical fact (alcohol use, reference rows 28 and 30): every
fact-state rule of the pack fires for each of its values and only then, a fact write never
blocks, and ``record_fact`` takes only the closed values of ``alcohol_use``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from safety_cases import PACK, T0, by_rule, context, course, days, members, run

from domain import commands as c
from domain.errors import InvalidInputError
from domain.patient_record import PatientRecord
from domain.safety import RulePackError, load_rule_pack
from domain.safety.fact_interactions import FactStateRule
from domain.safety.fact_values import CLOSED_FACTS, closed_fact
from tests.unit.test_patient_record import ctx, new_record, refused

FACT_STATES = [r for r in PACK.interactions if isinstance(r, FactStateRule)]
ALCOHOL = CLOSED_FACTS["alcohol_use"]


def outside(rule: FactStateRule) -> list[str]:
    """The values of the rule's (closed) fact that must not fire it."""
    closed = closed_fact(rule.fact)
    assert closed is not None, f"{rule.rule.id}: a fact-state rule on an open fact"
    return [v for v in CLOSED_FACTS[closed] if v not in rule.values]


def on(rule: FactStateRule, value: str, *, stopped: float | None = None) -> Any:
    drug = members(rule.drug)[0]
    stop = T0 + days(stopped) if stopped is not None else None
    return context(
        course("d", drug, start=T0 - days(30), stopped_at=stop),
        facts={rule.fact: value},
        now=T0 + days(5),
    )


def test_the_pack_has_the_alcohol_rules_of_rows_28_and_30() -> None:
    rules = {r.rule.id: (r.rule.severity, sorted(r.values)) for r in FACT_STATES}
    assert rules == {
        "DDI-28C": ("major", ["heavy", "regular"]),
        "DDI-30D": ("contraindicated", ["stopped_abruptly"]),
        "FACT-HLA-B1502-CARBAMAZEPINE": ("contraindicated", ["positive"]),
    }


@pytest.mark.parametrize("rule", FACT_STATES, ids=lambda r: r.rule.id)
class TestFactStateRules:
    def test_it_fires_for_each_of_its_values_when_a_drug_is_prescribed(
        self, rule: FactStateRule
    ) -> None:
        for value in sorted(rule.values):
            found = by_rule(run(on(rule, value), "prescribed", T0 + days(5), "d"), rule.rule.id)
            assert [(f.order_ids, f.severity, f.kind) for f in found] == [
                (("d",), rule.rule.severity, "interaction")
            ]
            assert found[0].blocking is (rule.rule.severity == "contraindicated")
            assert found[0].fact == rule.fact
            assert PACK.drugs[members(rule.drug)[0]].display.lower() in found[0].message.lower()

    def test_it_is_quiet_for_the_other_values(self, rule: FactStateRule) -> None:
        for value in outside(rule):
            assert (
                by_rule(run(on(rule, value), "prescribed", T0 + days(5), "d"), rule.rule.id) == []
            )

    def test_it_is_quiet_without_the_fact(self, rule: FactStateRule) -> None:
        ctx = context(course("d", members(rule.drug)[0]), now=T0 + days(5))
        assert by_rule(run(ctx, "prescribed", T0, "d"), rule.rule.id) == []

    def test_it_is_quiet_without_one_of_its_drugs(self, rule: FactStateRule) -> None:
        other = next(d for d in ("sertraline", "lithium") if not rule.drug.covers(PACK.drugs[d]))
        value = sorted(rule.values)[0]
        ctx = context(course("d", other), facts={"alcohol_use": value}, now=T0 + days(5))
        assert by_rule(run(ctx, "fact", fact="alcohol_use"), rule.rule.id) == []

    def test_it_is_quiet_once_the_drug_has_stopped(self, rule: FactStateRule) -> None:
        ctx = on(rule, sorted(rule.values)[0], stopped=2)
        assert by_rule(run(ctx, "lab", T0 + days(5)), rule.rule.id) == []

    def test_a_fact_write_raises_it_and_never_blocks(self, rule: FactStateRule) -> None:
        ctx = on(rule, sorted(rule.values)[0])
        found = by_rule(
            run(ctx, "fact", T0 + days(5), fact="alcohol_use", previous_value="none"),
            rule.rule.id,
        )
        assert len(found) == 1
        assert found[0].blocking is False
        if rule.rule.severity == "contraindicated":
            assert "recorded, not refused" in found[0].message


def test_the_contraindication_on_a_fact_write_says_the_fact_was_not_refused() -> None:
    ctx = context(course("b", "Wellbutrin XL"), facts={"alcohol_use": "stopped_abruptly"})
    (found,) = by_rule(run(ctx, "fact", fact="alcohol_use", previous_value="heavy"), "DDI-30D")
    assert found.message.startswith("Wellbutrin XL (bupropion) with alcohol stopped abruptly")
    assert "never blocked" in found.message
    assert found.severity == "contraindicated"


def test_the_alcohol_rule_names_every_benzodiazepine_or_z_drug_it_holds_for() -> None:
    ctx = context(course("l", "lorazepam"), course("z", "zolpidem"), facts={"alcohol_use": "Heavy"})
    (found,) = by_rule(run(ctx, "prescribed", T0, "z"), "DDI-28C")
    assert found.order_ids == ("l", "z")
    assert found.message.startswith("Lorazepam and zolpidem with heavy alcohol use")


def test_occasional_drinking_raises_no_alcohol_alert() -> None:
    ctx = context(course("l", "alprazolam"), facts={"alcohol_use": "occasional"})
    assert by_rule(run(ctx, "prescribed", T0, "l"), "DDI-28C") == []


class TestRecordingAlcoholUse:
    @pytest.mark.parametrize("value", ALCOHOL)
    def test_each_allowed_value_is_recorded(self, value: str) -> None:
        record = new_record()
        record.record_fact(ctx(), c.RecordFact(fact="alcohol_use", value=value))
        assert record.plan.facts["alcohol_use"].value == value

    @pytest.mark.parametrize(
        ("fact", "value", "stored"),
        [
            ("alcohol_use", "Stopped abruptly", "stopped_abruptly"),
            ("Alcohol use", " HEAVY ", "heavy"),
            ("alcohol-use", "stopped-abruptly", "stopped_abruptly"),
        ],
    )
    def test_spelling_and_case_reach_the_canonical_name_and_value(
        self, fact: str, value: str, stored: str
    ) -> None:
        record = new_record()
        record.record_fact(ctx(), c.RecordFact(fact=fact, value=value))
        assert list(record.plan.facts) == ["alcohol_use"]
        assert record.plan.facts["alcohol_use"].value == stored

    @pytest.mark.parametrize("value", ["yes", "a bit", "heavvy", "stopped", "10 units/week"])
    def test_another_value_is_refused_naming_the_allowed_ones(self, value: str) -> None:
        record = new_record()
        refused(
            record,
            lambda: record.record_fact(ctx(), c.RecordFact(fact="alcohol_use", value=value)),
            InvalidInputError,
            "use one of none, occasional, regular, heavy, stopped_abruptly.",
            "value",
        )

    def test_facts_no_rule_reads_keep_free_values(self) -> None:
        record: PatientRecord = new_record()
        record.record_fact(ctx(), c.RecordFact(fact="diet", value="a bit of everything"))
        assert record.plan.facts["diet"].value == "a bit of everything"

    def test_smoking_is_read_by_the_rules_so_a_vague_value_is_refused(self) -> None:
        record = new_record()
        refused(
            record,
            lambda: record.record_fact(ctx(), c.RecordFact(fact="smoking", value="a bit")),
            InvalidInputError,
            "use one of smoker, non-smoker, ex-smoker.",
            "value",
        )


def test_a_rule_value_outside_the_closed_set_is_refused_by_the_loader(tmp_path: Path) -> None:
    raw = json.loads(resources.files("domain.safety").joinpath("rulepack.json").read_text())
    rule = next(r for r in raw["interactions"] if r["id"] == "DDI-28C")
    rule["values"] = ["regular", "heavvy"]
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(RulePackError, match=r"DDI-28C.*'values'.*heavvy.*alcohol_use"):
        load_rule_pack(path)
