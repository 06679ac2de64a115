"""Lab-range rules: values judged by tier against the active drugs, units normalised.

The tier tests are generated from the pack data (every tier of every rule fires on a value
just past its threshold, with its own severity); the situations of issue 18 are spelt out
below; hypothesis checks that a value written in an equivalent unit gets the same tier.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_cases import (
    PACK,
    T0,
    by_rule,
    context,
    course,
    days,
    members,
    run,
    satisfy,
    with_extra,
)

from domain.safety import Change, Finding, LabResult, PatientContext
from domain.safety.lab_judgement import abnormal_results, judge
from domain.safety.lab_ranges import LabRange, Tier
from domain.safety.lab_units import convert, unit_key
from domain.safety.monitoring import check_monitoring
from domain.safety.plan_view import PlanView

RANGES = list(PACK.lab_ranges)
TIERS = [(rule, tier) for rule in RANGES for tier in rule.tiers]
LAB_AT = T0 + days(10)


def rule_by_id(rule_id: str) -> LabRange:
    return next(rule for rule in RANGES if rule.rule.id == rule_id)


def lab(test: str, value: float | None, unit: str | None, at: float = 10) -> LabResult:
    return LabResult(test, T0 + days(at), value, unit)


def witness_value(rule: LabRange, tier: Tier) -> float:
    """A value (in the rule's unit) that meets ``tier`` and no tier listed before it."""
    if tier.kind == "below":
        return tier.threshold - 0.01
    if tier.kind == "at_least":
        return tier.threshold
    if tier.kind == "above_uln_times":
        return tier.threshold * (rule.uln or 0) + 0.01
    return tier.threshold + 0.01  # above; rise_above (over a baseline of 0)


def plan_for(rule: LabRange, *labs: LabResult) -> PatientContext:
    """A patient the rule applies to: on one of its drugs (started after the results for
    a before-start rule, before them otherwise), with the facts its condition needs."""
    ctx = context(labs=labs, now=LAB_AT + days(1))
    if rule.drugs is not None:
        drug = members(rule.drugs)[0]
        start = LAB_AT + days(1) if rule.phase == "before_start" else T0
        ctx = replace(ctx, medications=(course("o1", drug, 10, start=start),))
        if rule.phase == "before_start":
            ctx = replace(ctx, now=start)
    if rule.when is not None:
        ctx = with_extra(ctx, satisfy(rule.when, "", set()))
    return ctx


def findings_of(rule: LabRange, ctx: PatientContext) -> list[Finding]:
    at = ctx.now
    return by_rule(run(ctx, "lab", at), rule.rule.id)


def result_for(rule: LabRange, value: float, unit: str | None = None) -> LabResult:
    name = sorted(rule.analytes)[0] if rule.analytes else rule.test
    if rule.qualitative:
        return lab(name, None, "positive" if value else "negative")
    return lab(name, value, rule.unit if unit is None else unit)


@pytest.mark.parametrize(("rule", "tier"), TIERS, ids=[f"{r.rule.id}-{t.name}" for r, t in TIERS])
class TestEveryTier:
    def test_a_value_past_the_threshold_gets_the_tier_its_severity_and_action(
        self, rule: LabRange, tier: Tier
    ) -> None:
        labs = [result_for(rule, witness_value(rule, tier))]
        if tier.kind == "rise_above":  # over a baseline of 0 taken at the course's start
            labs.insert(0, replace(labs[0], value=0.0, effective_at=T0))
        [found] = findings_of(rule, plan_for(rule, *labs))
        assert (found.severity, found.action) == (tier.rule.severity, tier.rule.action)
        assert f"|{tier.name}|" in found.key
        assert found.source == rule.rule.source
        assert found.blocking == (tier.rule.severity == "contraindicated")

    def test_without_the_drug_the_rule_is_silent(self, rule: LabRange, tier: Tier) -> None:
        if rule.drugs is None:
            pytest.skip("the rule judges any patient with a result")
        ctx = plan_for(rule, result_for(rule, witness_value(rule, tier)))
        assert findings_of(rule, replace(ctx, medications=())) == []


@pytest.mark.parametrize("rule", [r for r in RANGES if not r.qualitative], ids=lambda r: r.rule.id)
class TestUnits:
    def test_a_result_in_an_unknown_unit_is_reported_as_not_judged(self, rule: LabRange) -> None:
        value = witness_value(rule, rule.tiers[0])
        [found] = findings_of(rule, plan_for(rule, result_for(rule, value, "furlongs")))
        assert found.severity == "moderate"
        assert "cannot be judged" in found.message
        assert "'furlongs'" in found.message

    def test_a_result_without_a_unit_is_read_in_the_rule_unit_only_where_it_says_so(
        self, rule: LabRange
    ) -> None:
        value = witness_value(rule, rule.tiers[0])
        found = findings_of(rule, plan_for(rule, replace(result_for(rule, value), unit=None)))
        if rule.assume_unit:
            assert [f.severity for f in found] == [rule.tiers[0].rule.severity]
        else:
            assert [f.severity for f in found] == ["moderate"]
            assert "no unit" in found[0].message


def tier_name(rule: LabRange, value: float, unit: str, ctx: PatientContext | None = None) -> str:
    base = ctx or plan_for(rule)
    result = result_for(rule, value, unit)
    ctx = replace(base, labs=(result,))
    view = PlanView(ctx, Change("lab", ctx.now), PACK.index, PACK.test_names)
    judgement = judge(rule, view)
    assert judgement is not None
    assert judgement.problem is None
    return judgement.tier.name if judgement.tier else "in range"


EQUIVALENT_UNITS = {
    "LAB-CLOZAPINE-ANC": [("/µL", 1), ("cells/uL", 1), ("x10^9/L", 1e-3), ("10⁹/L", 1e-3),
                          ("\u00d710^3/µL", 1e-3), ("K/uL", 1e-3), ("cells/mm3", 1)],
    "LAB-LITHIUM-LEVEL-HIGH": [("mmol/L", 1), ("mEq/L", 1), ("MEQ/l", 1)],
    "LAB-SODIUM-LOW": [("mmol/L", 1), ("mEq/L", 1)],
    "LAB-VALPROATE-LEVEL-HIGH": [("µg/mL", 1), ("mcg/mL", 1), ("mg/L", 1), ("ug/ml", 1),
                                 ("µmol/L", 1000 / 144.21)],
    "LAB-VALPROATE-PLATELETS": [("10^9/L", 1), ("x10^3/µL", 1), ("/µL", 1000)],
    "LAB-QTC-ON-QT-DRUG": [("ms", 1), ("msec", 1), ("s", 1e-3)],
    "LAB-LITHIUM-EGFR": [("mL/min/1.73m2", 1), ("mL/min/1.73 m²", 1), ("ml/min/1.73m^2", 1)],
    "LAB-VALPROATE-ALT": [("U/L", 1), ("IU/L", 1)],
}  # fmt: skip


class TestUnitEquivalence:
    """A value written in an equivalent unit is judged the same."""

    @settings(max_examples=150, deadline=None)
    @given(
        st.sampled_from(sorted(EQUIVALENT_UNITS)),
        st.integers(min_value=0, max_value=400_000),
        st.data(),
    )
    def test_converting_a_value_between_equivalent_units_gives_the_same_tier(
        self, rule_id: str, hundredths: int, data: st.DataObject
    ) -> None:
        rule = rule_by_id(rule_id)
        value = hundredths / 100  # in the first unit listed
        units = EQUIVALENT_UNITS[rule_id]
        first_unit, first_factor = units[0]
        other_unit, factor = data.draw(st.sampled_from(units))
        expected = tier_name(rule, value * first_factor, first_unit)
        assert tier_name(rule, value * factor, other_unit) == expected

    @given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
    def test_a_conversion_there_and_back_is_the_identity(self, value: float) -> None:
        there = convert(value, "/µL", "x10^9/L")
        assert there is not None
        back = convert(there, "10^9/L", "cells/µL")
        assert back == pytest.approx(value, rel=1e-9)

    def test_units_of_different_dimensions_do_not_convert(self) -> None:
        assert convert(1.0, "mmol/L", "/µL") is None
        assert convert(1.0, "mg/dL", "mmol/L") is None
        assert convert(1.0, "%", "/µL") is None

    @pytest.mark.parametrize(
        ("written", "key"),
        [("x10⁹/L", "10^9/l"), ("10*9/L", "10^9/l"), ("x 10^9 cells/L", "10^9/l"),
         ("cells/µL", "/ul"), ("per μL", "/ul"), ("mcg/mL", "ug/ml"), ("mEq/L", "meq/l"),
         ("mL/min/1.73 m²", "ml/min/1.73m2")],
    )  # fmt: skip
    def test_laboratory_spellings_are_normalised(self, written: str, key: str) -> None:
        assert unit_key(written) == key


def clozapine(start: datetime = T0, *labs: LabResult, ben: bool = False) -> PatientContext:
    facts = {"benign_ethnic_neutropenia": "yes"} if ben else {}
    return context(course("o1", "clozapine", 100, start=start), labs=labs, facts=facts,
                   now=LAB_AT + days(1))  # fmt: skip


def monitoring_checks(ctx: PatientContext) -> list[Finding]:
    """The monitoring checks one by one (the engine lists them as one alert per
    prescription), judged with the lab ranges as the engine judges them."""
    view = PlanView(ctx, Change("lab", ctx.now), PACK.index, PACK.test_names)
    labels = {name: test.label for name, test in PACK.lab_tests.items()}
    return check_monitoring(PACK.monitoring, view, labels, abnormal_results(PACK.lab_ranges, view))


def lab_findings(ctx: PatientContext, kind: str = "lab", order_id: str | None = None) -> list:
    return [
        f
        for f in run(ctx, kind, ctx.now, order_id)
        if f.kind == "lab_out_of_range" or f.rule_id.startswith("FACT-HLA")
    ]


class TestClozapineAnc:
    def test_an_anc_of_800_per_microlitre_interrupts_clozapine(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("ANC", 800, "/µL")))
        assert found.severity == "contraindicated"
        assert "Interrupt clozapine" in found.message
        assert "ANC daily" in found.action
        assert "haematology" in found.action

    def test_0_8_times_10_9_per_litre_is_the_same_answer(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("neutrophils", 0.8, "x10^9/L")))
        assert (found.rule_id, found.severity) == ("LAB-CLOZAPINE-ANC", "contraindicated")
        assert "moderate neutropenia" in found.message

    def test_an_anc_of_800_is_not_monitoring_done(self) -> None:
        before = monitoring_checks(clozapine(T0))
        after = monitoring_checks(clozapine(T0, lab("ANC", 800, "/µL")))
        due = [(f.key, f.due_at) for f in before if f.rule_id == "MON-CLOZAPINE-ANC"]
        assert due
        assert [(f.key, f.due_at) for f in after if f.rule_id == "MON-CLOZAPINE-ANC"] == due

    def test_a_normal_anc_is_monitoring_done_and_raises_nothing(self) -> None:
        ctx = clozapine(T0, lab("ANC", 2100, "/µL"))
        assert lab_findings(ctx) == []
        [due] = [f for f in monitoring_checks(ctx) if f.rule_id == "MON-CLOZAPINE-ANC"]
        assert due.due_at is not None
        assert due.due_at > LAB_AT

    def test_below_500_is_severe_with_no_rechallenge(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("ANC", 0.4, "10^9/L")))
        assert "severe neutropenia" in found.message
        assert "Do not rechallenge" in found.action

    def test_1200_is_mild_continue_with_anc_three_times_a_week(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("ANC", 1200, "/µL")))
        assert found.severity == "moderate"
        assert "three times a week" in found.action

    def test_1200_with_benign_ethnic_neutropenia_is_normal(self) -> None:
        assert lab_findings(clozapine(T0, lab("ANC", 1200, "/µL"), ben=True)) == []

    def test_800_with_benign_ethnic_neutropenia_continues_with_closer_monitoring(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("ANC", 800, "/µL"), ben=True))
        assert (found.rule_id, found.severity) == ("LAB-CLOZAPINE-ANC-BEN", "moderate")

    def test_a_baseline_below_1500_blocks_the_prescription(self) -> None:
        start = LAB_AT + days(1)
        ctx = replace(clozapine(start, lab("ANC", 1200, "/µL")), now=start)
        [found] = lab_findings(ctx, "prescribed", "o1")
        assert found.rule_id == "LAB-CLOZAPINE-ANC-BASELINE"
        assert found.blocking
        assert "must not be started" in found.message

    def test_a_baseline_of_1200_with_ben_allows_the_start(self) -> None:
        start = LAB_AT + days(1)
        ctx = replace(clozapine(start, lab("ANC", 1200, "/µL"), ben=True), now=start)
        assert lab_findings(ctx, "prescribed", "o1") == []

    def test_a_worse_tier_is_a_new_finding_and_a_normal_result_clears_it(self) -> None:
        mild = lab_findings(clozapine(T0, lab("ANC", 1200, "/µL", 8)))
        worse = lab_findings(clozapine(T0, lab("ANC", 1200, "/µL", 8), lab("ANC", 700, "/µL")))
        normal = lab_findings(clozapine(T0, lab("ANC", 700, "/µL", 8), lab("ANC", 1900, "/µL")))
        assert "|mild|" in mild[0].key
        assert "|moderate|" in worse[0].key
        assert normal == []

    def test_an_anc_in_an_unreadable_unit_is_reported_not_ignored(self) -> None:
        [found] = lab_findings(clozapine(T0, lab("ANC", 800, "%")))
        assert "cannot be judged" in found.message
        assert found.order_ids == ("o1",)


def on(drug: str, *labs: LabResult) -> list:
    return lab_findings(context(course("o1", drug, 100), labs=labs, now=LAB_AT + days(1)))


class TestLithium:
    def test_2_6_is_urgent_and_1_6_is_not(self) -> None:
        [high] = on("lithium", lab("lithium level", 2.6, "mmol/L"))
        [raised] = on("lithium", lab("lithium level", 1.6, "mmol/L"))
        assert high.severity == "urgent"
        assert "emergency" in high.action
        assert raised.severity == "major"
        assert "toxicity is likely" in raised.message
        assert high.key != raised.key

    def test_1_3_is_above_range_and_0_9_is_quiet(self) -> None:
        [above] = on("lithium", lab("lithium", 1.3, "mEq/L"))
        assert "above the target range" in above.message
        assert on("lithium", lab("lithium", 0.9, "mEq/L")) == []

    def test_egfr_25_on_lithium_says_avoid(self) -> None:
        [found] = on("lithium", lab("eGFR", 25, "mL/min/1.73m²"))
        assert (found.rule_id, found.severity) == ("LAB-LITHIUM-EGFR", "major")
        assert "avoided" in found.message

    def test_egfr_50_on_lithium_asks_for_review(self) -> None:
        [found] = on("lithium", lab("eGFR", 50, "mL/min/1.73m2"))
        assert found.severity == "moderate"

    def test_a_creatinine_value_is_not_read_as_an_egfr(self) -> None:
        assert on("lithium", lab("creatinine", 25, "µmol/L")) == []


class TestSodium:
    def test_124_on_carbamazepine_is_severe(self) -> None:
        [found] = on("carbamazepine", lab("sodium", 124, "mmol/L"))
        assert found.severity == "urgent"
        assert "severe hyponatraemia" in found.message

    def test_128_on_sertraline_is_hyponatraemia(self) -> None:
        [found] = on("sertraline", lab("Na", 128, "mEq/L"))
        assert found.severity == "major"

    def test_128_on_oxcarbazepine_is_hyponatraemia(self) -> None:
        [found] = on("Trileptal", lab("serum sodium", 128, "mmol/L"))
        assert "oxcarbazepine" in found.message

    def test_128_without_a_drug_that_causes_it_is_quiet(self) -> None:
        assert on("lamotrigine", lab("sodium", 128, "mmol/L")) == []


class TestValproate:
    def test_a_level_of_180_is_toxic(self) -> None:
        [found] = on("valproate", lab("valproate level", 180, "µg/mL"))
        assert (found.rule_id, found.severity) == ("LAB-VALPROATE-LEVEL-HIGH", "major")

    def test_a_level_in_micromoles_is_converted_with_the_molar_mass(self) -> None:
        [found] = on("valproate", lab("valproic acid", 1250, "µmol/L"))
        assert found.rule_id == "LAB-VALPROATE-LEVEL-HIGH"
        assert on("valproate", lab("valproic acid", 500, "µmol/L")) == []

    def test_a_level_of_40_is_an_informational_subtherapeutic_note(self) -> None:
        [found] = on("valproate", lab("valproate level", 40, "mg/L"))
        assert found.severity == "info"

    def test_alt_four_times_the_upper_limit_is_major(self) -> None:
        [found] = on("valproate", lab("ALT", 160, "U/L"))
        assert found.rule_id == "LAB-VALPROATE-ALT"
        assert "3 times the upper limit" in found.message

    def test_alt_written_as_a_multiple_of_the_upper_limit_is_judged(self) -> None:
        [found] = on("valproate", lab("ALT", 4, "x ULN"))
        assert found.rule_id == "LAB-VALPROATE-ALT"
        assert on("valproate", lab("ALT", 2, "\u00d7 ULN")) == []

    def test_a_liver_function_value_is_read_as_a_liver_enzyme(self) -> None:
        [found] = on("valproate", lab("LFTs", 200, "U/L"))
        assert found.rule_id == "LAB-VALPROATE-LIVER-ENZYMES"

    def test_ast_twice_the_upper_limit_is_quiet(self) -> None:
        assert on("valproate", lab("AST", 80, "U/L")) == []

    def test_platelets_40_says_stop(self) -> None:
        [found] = on("valproate", lab("platelets", 40, "10^9/L"))
        assert (found.severity, "Stop" in found.action) == ("major", True)

    def test_platelets_80_asks_for_review(self) -> None:
        [found] = on("valproate", lab("platelet count", 80_000, "/µL"))
        assert found.severity == "moderate"


class TestOtherLevels:
    def test_a_clozapine_level_above_1000_ng_per_ml_is_major(self) -> None:
        [found] = on("clozapine", lab("clozapine level", 1250, "ng/mL"))
        assert (found.rule_id, found.severity) == ("LAB-CLOZAPINE-LEVEL-HIGH", "major")

    def test_a_carbamazepine_level_of_15_is_toxic(self) -> None:
        [found] = on("carbamazepine", lab("carbamazepine level", 15, "µg/mL"))
        assert found.rule_id == "LAB-CARBAMAZEPINE-LEVEL-HIGH"

    def test_potassium_2_8_on_citalopram_is_major(self) -> None:
        [found] = on("citalopram", lab("K+", 2.8, "mEq/L"))
        assert (found.rule_id, found.severity) == ("LAB-POTASSIUM-LOW-QT", "major")


class TestQtc:
    def test_520_ms_on_citalopram_is_major(self) -> None:
        [found] = on("citalopram", lab("QTc", 520, "ms"))
        assert found.rule_id == "LAB-QTC-ON-QT-DRUG"
        assert "Stop or change" in found.action

    def test_a_rise_of_more_than_60_ms_from_the_baseline_is_major(self) -> None:
        citalopram = course("o1", "citalopram", 20, start=T0 + days(1))
        labs = [lab("QTc", 410, "ms", 0), lab("QTc", 480, "ms")]
        ctx = context(citalopram, labs=labs, now=LAB_AT)
        [found] = lab_findings(ctx)
        assert "baseline of 410 ms" in found.message

    def test_470_ms_on_a_drug_without_qt_risk_is_quiet(self) -> None:
        assert on("sertraline", lab("QTc", 520, "ms")) == []


class TestHlaB1502:
    def test_a_positive_result_then_carbamazepine_is_blocked(self) -> None:
        start = LAB_AT + days(1)
        ctx = context(course("o1", "carbamazepine", 200, start=start),
                      labs=[lab("HLA-B*15:02", None, "positive")], now=start)  # fmt: skip
        [found] = lab_findings(ctx, "prescribed", "o1")
        assert found.blocking
        assert "Do not start" in found.message

    def test_a_positive_fact_then_carbamazepine_is_blocked(self) -> None:
        ctx = context(course("o1", "carbamazepine", 200), facts={"hla_b_1502": "positive"})
        [found] = lab_findings(ctx, "prescribed", "o1")
        assert (found.rule_id, found.blocking) == ("FACT-HLA-B1502-CARBAMAZEPINE", True)

    def test_a_negative_result_is_quiet(self) -> None:
        ctx = context(course("o1", "carbamazepine", 200), labs=[lab("hla b 1502", 0, None)])
        assert lab_findings(ctx) == []

    def test_a_result_that_cannot_be_read_is_reported(self) -> None:
        unreadable = lab("hla b 1502", None, "see report")
        ctx = context(course("o1", "carbamazepine", 200), labs=[unreadable])
        [found] = lab_findings(ctx)
        assert "cannot be judged" in found.message
