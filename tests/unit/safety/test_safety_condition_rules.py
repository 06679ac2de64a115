"""Drugs read against the whole patient (``condition_rules``): every rule of the pack fires
for a patient who meets it and stays silent for one who does not; codes match by prefix,
recent-only codes expire, facts recorded before the problem list keep working, a
contraindication blocks a prescription but never the entry that reveals it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import PACK, T0, born_aged, by_rule, context, course, days, members, run

from domain.safety import PatientContext, RulePackError, load_rule_pack
from domain.safety.condition_rules import CodePrefix, ConditionRule
from domain.safety.context import Condition, PregnancyStatus

RULES = PACK.condition_rules
NOW = T0 + days(1)


def code_of(prefix: CodePrefix) -> str:
    """A code the prefix matches, as written: "F500" -> "F50.0", "G40" -> "G40.909"."""
    raw = prefix.prefix
    return raw[:3] + "." + raw[3:] if len(raw) > 3 else raw + ".9"


SINCE = T0 - days(10)


def condition(code: str, cid: str = "c1", since: datetime = SINCE, **kw: Any) -> Condition:
    return Condition(cid, code, f"condition {code}", since, **kw)


def pregnancy(status: str = "pregnant", event_id: str = "p1") -> PregnancyStatus:
    return PregnancyStatus(status, (T0 - days(3)).date(), None, event_id)


def witness(rule: ConditionRule) -> str:
    drug = next(d for d in members(rule.drug) if d not in rule.except_drugs)
    return drug


def meets(rule: ConditionRule, drug: str | None = None) -> PatientContext:
    """A patient on one of the rule's drugs who meets every criterion of the rule."""
    base = context(course("d", drug or witness(rule), start=T0 - days(1)), now=NOW)
    parts: dict[str, Any] = {}
    if rule.codes:
        parts["conditions"] = (condition(code_of(rule.codes[0])),)
    elif rule.facts:
        fact = rule.facts[0]
        parts["facts"] = {fact.fact: sorted(fact.values)[0]}
    if rule.pregnancy:
        parts["pregnancy"] = pregnancy(sorted(rule.pregnancy)[0])
    if rule.sex_at_birth:
        parts["sex_at_birth"] = sorted(rule.sex_at_birth)[0]
    if rule.age_from is not None:
        age = rule.age_from + 1
    elif rule.age_below is not None:
        age = rule.age_below - 6
    else:
        age = 30
    parts["birth_date"] = born_aged(age, NOW)
    return replace(base, **parts)


def test_the_pack_has_the_condition_rules_issue_18_asks_for() -> None:
    ids = {r.rule.id for r in RULES}
    assert {
        "COND-BUPROPION-SEIZURE",
        "COND-BUPROPION-EATING",
        "COND-DEMENTIA-ANTIPSYCHOTIC",
        "COND-QT-CITALOPRAM",
        "COND-QT-ZIPRASIDONE",
        "COND-PREGNANCY-VALPROATE",
        "COND-PREGNANCY-LITHIUM",
        "COND-PREGNANCY-ANTIEPILEPTIC",
        "COND-PREGNANCY-PAROXETINE",
        "COND-VALPROATE-CHILDBEARING",
        "COND-HEPATIC-VALPROATE",
        "COND-RENAL-LITHIUM",
        "COND-LACTATION-LITHIUM-CLOZAPINE",
        "AGE-ANTIDEPRESSANT-UNDER-25",
        "AGE-BEERS-BENZODIAZEPINE",
    } <= ids


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.id)
class TestEveryConditionRule:
    def test_it_fires_for_a_patient_who_meets_it(self, rule: ConditionRule) -> None:
        found = by_rule(run(meets(rule), "prescribed", NOW, "d"), rule.rule.id)
        assert [(f.order_ids, f.severity, f.kind) for f in found] == [
            (("d",), rule.rule.severity, rule.kind)
        ]
        assert found[0].blocking == (rule.rule.severity == "contraindicated")

    def test_it_is_silent_once_the_drug_is_stopped(self, rule: ConditionRule) -> None:
        ctx = meets(rule)
        stopped = replace(
            ctx, medications=(replace(ctx.medications[0], stopped_at=T0 - days(0.5)),)
        )
        assert by_rule(run(stopped, "condition", NOW), rule.rule.id) == []

    def test_it_is_silent_without_what_it_reads_about_the_patient(
        self, rule: ConditionRule
    ) -> None:
        ctx = meets(rule)
        if rule.codes or rule.facts:
            ctx = replace(ctx, conditions=(), facts={})
        elif rule.pregnancy:
            ctx = replace(ctx, pregnancy=pregnancy("not_pregnant"))
        elif rule.sex_at_birth:
            ctx = replace(ctx, sex_at_birth="male")
        elif rule.age_from is not None:
            ctx = replace(ctx, birth_date=born_aged(rule.age_from - 5, NOW))
        else:
            assert rule.age_below is not None
            ctx = replace(ctx, birth_date=born_aged(rule.age_below + 5, NOW))
        assert by_rule(run(ctx, "prescribed", NOW, "d"), rule.rule.id) == []

    def test_a_condition_entry_never_blocks_and_says_so(self, rule: ConditionRule) -> None:
        [found] = by_rule(run(meets(rule), "condition", NOW), rule.rule.id)
        assert not found.blocking
        if rule.rule.severity == "contraindicated":
            assert "recorded, not refused" in found.message


class TestProblemList:
    def test_a_full_code_matches_its_category(self) -> None:
        ctx = context(course("d", "bupropion"), now=NOW)
        for code in ("G40.909", "G40", "R56.9", "F50.2", "F50.01", "F50.00"):
            found = run(replace(ctx, conditions=(condition(code),)), "prescribed", NOW, "d")
            assert {f.rule_id for f in found} & {
                "COND-BUPROPION-SEIZURE",
                "COND-BUPROPION-EATING",
            }, code

    def test_a_neighbouring_code_does_not_match(self) -> None:
        ctx = context(course("d", "bupropion"), now=NOW)
        for code in ("F50.8", "G43.909", "F32.1", "R50.9", "R56.00"):  # R56.0: febrile
            found = run(replace(ctx, conditions=(condition(code),)), "prescribed", NOW, "d")
            assert not [f for f in found if f.rule_id.startswith("COND-BUPROPION")], code

    def test_the_message_names_the_condition_and_its_code(self) -> None:
        ctx = replace(
            context(course("d", "Wellbutrin XL"), now=NOW),
            conditions=(Condition("c1", "F50.2", "Bulimia nervosa", T0 - days(10)),),
        )
        [found] = by_rule(run(ctx, "prescribed", NOW, "d"), "COND-BUPROPION-EATING")
        assert "Bulimia nervosa (F50.2)" in found.message
        assert "Wellbutrin XL" in found.message

    def test_a_seizure_disorder_recorded_as_a_fact_still_counts(self) -> None:
        ctx = context(course("d", "bupropion"), now=NOW, facts={"seizure disorder": "Yes"})
        [found] = by_rule(run(ctx, "prescribed", NOW, "d"), "COND-BUPROPION-SEIZURE")
        assert found.blocking
        assert "seizure disorder: yes" in found.message

    def test_a_fact_and_a_code_for_the_same_disorder_give_one_finding(self) -> None:
        ctx = replace(
            context(course("d", "bupropion"), now=NOW, facts={"seizure_disorder": "yes"}),
            conditions=(condition("G40.909"),),
        )
        assert len(by_rule(run(ctx, "prescribed", NOW, "d"), "COND-BUPROPION-SEIZURE")) == 1

    def test_a_recent_infarction_counts_and_an_old_one_does_not(self) -> None:
        ctx = context(course("d", "ziprasidone"), now=NOW)
        recent = replace(ctx, conditions=(condition("I21.4", onset=(NOW - days(30)).date()),))
        old = replace(ctx, conditions=(condition("I21.4", onset=(NOW - days(200)).date()),))
        assert by_rule(run(recent, "prescribed", NOW, "d"), "COND-QT-ZIPRASIDONE")
        assert not by_rule(run(old, "prescribed", NOW, "d"), "COND-QT-ZIPRASIDONE")

    def test_a_new_entry_of_the_same_condition_is_a_new_finding(self) -> None:
        ctx = context(course("d", "bupropion"), now=NOW)
        first = run(replace(ctx, conditions=(condition("G40.909", "c1"),)), "condition", NOW)
        again = run(replace(ctx, conditions=(condition("G40.909", "c2"),)), "condition", NOW)
        assert by_rule(first, "COND-BUPROPION-SEIZURE")[0].key != (
            by_rule(again, "COND-BUPROPION-SEIZURE")[0].key
        )

    def test_coded_liver_disease_caps_escitalopram_like_the_fact_does(self) -> None:
        ctx = context(course("d", "escitalopram", 20), now=NOW, birth_date=born_aged(40, NOW))
        assert not by_rule(run(ctx, "prescribed", NOW, "d"), "MAX-ESCITALOPRAM")
        coded = replace(ctx, conditions=(condition("K74.60"),))
        [found] = by_rule(run(coded, "prescribed", NOW, "d"), "MAX-ESCITALOPRAM")
        assert "hepatic impairment" in found.message


class TestThePerson:
    def valproate(self, **kw: Any) -> PatientContext:
        return replace(context(course("d", "valproate", 500), now=NOW), **kw)

    def test_valproate_in_a_woman_of_30_warns_of_pregnancy_prevention(self) -> None:
        ctx = self.valproate(sex_at_birth="female", birth_date=born_aged(30, NOW))
        [found] = by_rule(run(ctx, "prescribed", NOW, "d"), "COND-VALPROATE-CHILDBEARING")
        assert found.severity == "major"
        assert "30-year-old (female at birth)" in found.message

    @pytest.mark.parametrize(
        ("sex", "age"), [("male", 30), ("female", 55), ("female", 10), (None, 30)]
    )
    def test_not_for_men_women_past_50_children_or_unknown_sex(
        self, sex: str | None, age: int
    ) -> None:
        ctx = self.valproate(sex_at_birth=sex, birth_date=born_aged(age, NOW))
        assert not by_rule(run(ctx, "prescribed", NOW, "d"), "COND-VALPROATE-CHILDBEARING")

    def test_in_pregnancy_the_contraindication_replaces_the_prevention_warning(self) -> None:
        ctx = self.valproate(
            sex_at_birth="female", birth_date=born_aged(30, NOW), pregnancy=pregnancy()
        )
        found = {f.rule_id: f for f in run(ctx, "prescribed", NOW, "d")}
        assert "COND-VALPROATE-CHILDBEARING" not in found
        assert found["COND-PREGNANCY-VALPROATE"].blocking
        assert "pregnancy (recorded as of" in found["COND-PREGNANCY-VALPROATE"].message

    def test_a_pregnancy_that_ended_stops_the_finding(self) -> None:
        ctx = replace(context(course("d", "lithium", 600), now=NOW), pregnancy=pregnancy())
        assert by_rule(run(ctx, "prescribed", NOW, "d"), "COND-PREGNANCY-LITHIUM")
        ended = replace(ctx, pregnancy=pregnancy("postpartum", "p2"))
        assert not by_rule(run(ended, "condition", NOW), "COND-PREGNANCY-LITHIUM")

    @pytest.mark.parametrize(
        ("drug", "amount", "rule", "age", "fires"),
        [
            # an antidepressant under 25 carries the boxed warning
            *[
                ("sertraline", 50, "AGE-ANTIDEPRESSANT-UNDER-25", age, fires)
                for age, fires in [(17, True), (24, True), (25, False), (40, False)]
            ],
            # a benzodiazepine at 65 and over meets the Beers criteria
            *[
                ("lorazepam", 1, "AGE-BEERS-BENZODIAZEPINE", age, fires)
                for age, fires in [(64, False), (65, True), (80, True)]
            ],
        ],
    )
    def test_an_age_rule_fires_only_on_its_side_of_the_age_limit(
        self, drug: str, amount: float, rule: str, age: int, fires: bool
    ) -> None:
        ctx = context(course("d", drug, amount), now=NOW, birth_date=born_aged(age, NOW))
        found = by_rule(run(ctx, "prescribed", NOW, "d"), rule)
        assert bool(found) is fires

    def test_pregnancy_and_sex_stated_as_clinical_facts_still_count(self) -> None:
        ctx = context(
            course("d", "valproate", 500),
            now=NOW,
            birth_date=born_aged(28, NOW),
            facts={"Sex": "F", "pregnancy": "Yes"},
        )
        found = {f.rule_id: f for f in run(ctx, "prescribed", NOW, "d")}
        assert "clinical fact pregnancy: yes" in found["COND-PREGNANCY-VALPROATE"].message
        not_pregnant = replace(ctx, facts={"sex": "female", "pregnant": "no"})
        found = {f.rule_id for f in run(not_pregnant, "prescribed", NOW, "d")}
        assert "COND-VALPROATE-CHILDBEARING" in found
        assert "COND-PREGNANCY-VALPROATE" not in found

    def test_a_recorded_status_outranks_a_fact(self) -> None:
        ctx = replace(
            context(course("d", "lithium", 300), now=NOW, facts={"pregnant": "yes"}),
            pregnancy=pregnancy("postpartum"),
        )
        assert not by_rule(run(ctx, "prescribed", NOW, "d"), "COND-PREGNANCY-LITHIUM")

    def test_no_birth_date_no_age_finding(self) -> None:
        ctx = context(course("d", "lorazepam", 1), now=NOW)
        assert not [f for f in run(ctx, "prescribed", NOW, "d") if f.kind == "age"]


def _pack_with(rule: dict[str, Any], tmp_path: Path) -> Path:
    raw = json.loads(resources.files("domain.safety").joinpath("rulepack.json").read_text())
    raw["condition_rules"] = [rule]
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(raw))
    return path


BASE = {
    "id": "X-1",
    "drug": {"drugs": ["bupropion"]},
    "severity": "major",
    "message": "{drug} with {condition}",
    "action": "a",
    "source": "s",
    "evidence": "K",
}


class TestMalformedRules:
    @pytest.mark.parametrize(
        ("extra", "names"),
        [
            ({}, "problems"),
            ({"problems": {"codes": ["12X"]}}, "codes"),
            ({"problems": {"codes": []}}, "codes"),
            ({"pregnancy": ["expecting"]}, "pregnancy"),
            ({"sex_at_birth": ["f"]}, "sex_at_birth"),
            ({"age_from": 65, "message": "{drug} {when}"}, "message"),
            ({"age_from": 65, "drug": {"drugs": ["nosuchdrug"]}}, "drugs"),
        ],
    )
    def test_a_malformed_rule_is_refused_naming_its_field(
        self, extra: dict[str, Any], names: str, tmp_path: Path
    ) -> None:
        with pytest.raises(RulePackError, match=names):
            load_rule_pack(_pack_with({**BASE, **extra}, tmp_path))

    def test_a_pack_without_the_section_loads_with_none(self, tmp_path: Path) -> None:
        raw = json.loads(resources.files("domain.safety").joinpath("rulepack.json").read_text())
        del raw["condition_rules"]
        path = tmp_path / "pack.json"
        path.write_text(json.dumps(raw))
        assert load_rule_pack(path).condition_rules == ()


def birthday(born: date, years: int) -> date:
    """The day a person born on ``born`` turns ``years`` (29 February: 1 March)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


class TestArithmetic:
    @given(age_in_days=st.integers(0, 100 * 366))
    def test_the_beers_rule_holds_exactly_from_the_65th_birthday(self, age_in_days: int) -> None:
        born = NOW.date() - timedelta(days=age_in_days)
        ctx = context(course("d", "lorazepam", 1), now=NOW, birth_date=born)
        fired = bool(by_rule(run(ctx, "prescribed", NOW, "d"), "AGE-BEERS-BENZODIAZEPINE"))
        assert fired is (NOW.date() >= birthday(born, 65))

    @given(age_in_days=st.integers(0, 40 * 366))
    def test_the_under_25_warning_holds_exactly_until_the_25th_birthday(
        self, age_in_days: int
    ) -> None:
        born = NOW.date() - timedelta(days=age_in_days)
        ctx = context(course("d", "sertraline", 50), now=NOW, birth_date=born)
        fired = bool(by_rule(run(ctx, "prescribed", NOW, "d"), "AGE-ANTIDEPRESSANT-UNDER-25"))
        assert fired is (NOW.date() < birthday(born, 25))

    @given(days_ago=st.integers(0, 400))
    def test_a_recent_infarction_counts_for_90_days_from_its_onset(self, days_ago: int) -> None:
        onset = NOW.date() - timedelta(days=days_ago)
        ctx = replace(
            context(course("d", "ziprasidone", 40), now=NOW),
            conditions=(condition("I21.4", onset=onset),),
        )
        fired = bool(by_rule(run(ctx, "prescribed", NOW, "d"), "COND-QT-ZIPRASIDONE"))
        assert fired is (days_ago <= 90)
