"""The pack's dose coverage (issue 18, item 5): every psychiatric drug has a maximum or a
reasoned "no label maximum"; doses no rule checked say so; maxima per indication; doses
no one can mean; benzodiazepine taper steps (property tests for the step arithmetic)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import PACK, T0, by_rule, context, course, days, run, step

from domain.safety import Change, RulePackError, evaluate, load_rule_pack
from domain.safety.dose_coverage import uncovered
from domain.safety.frequency import doses_per_day
from domain.safety.indications import codes
from domain.safety.plausibility import IMPLAUSIBLE_FACTOR, implausible_dose, most_generous

COVERAGE = PACK.dose_coverage
assert COVERAGE is not None
PSYCHIATRIC = sorted(
    name for name, info in PACK.drugs.items() if info.classes & COVERAGE.required_for_classes
)
RAW = json.loads((Path(__file__).parents[3] / "domain/safety/rulepack.json").read_text())


class TestEveryPsychiatricDrugHasAMaximum:
    def test_no_psychiatric_drug_lacks_both_a_maximum_and_a_reasoned_exception(self) -> None:
        assert uncovered(COVERAGE, PACK.drugs, PACK.dose_limits) == []

    @pytest.mark.parametrize("drug", PSYCHIATRIC)
    def test_each_psychiatric_drug_has_a_maximum_or_says_why_not(self, drug: str) -> None:
        limited = {limit.drug for limit in PACK.dose_limits}
        assert drug in limited or COVERAGE.no_label_maximum.get(drug)

    def test_a_pack_that_drops_a_maximum_is_refused_naming_the_drug(self, tmp_path: Path) -> None:
        raw = json.loads(json.dumps(RAW))
        raw["dose_limits"] = [r for r in raw["dose_limits"] if r["drug"] != "pimozide"]
        path = tmp_path / "pack.json"
        path.write_text(json.dumps(raw))
        with pytest.raises(RulePackError, match="pimozide"):
            load_rule_pack(path)

    @pytest.mark.parametrize(
        ("drug", "amount", "frequency", "maximum"),
        [
            ("pimozide", 10, "twice daily", "10 mg/day"),
            ("tranylcypromine", 40, "three times daily", "60 mg/day"),
            ("cariprazine", 12, "once daily", "6 mg/day"),
            ("phenelzine", 45, "three times daily", "90 mg/day"),
            ("lurasidone", 200, "once daily", "160 mg/day"),
            ("clomipramine", 150, "twice daily", "250 mg/day"),
            ("zolpidem", 20, "at night", "12.5 mg/day"),
            ("atomoxetine", 80, "twice daily", "100 mg/day"),
            ("lumateperone", 84, "once daily", "42 mg/day"),
        ],
    )
    def test_a_dose_above_the_label_maximum_alerts(
        self, drug: str, amount: float, frequency: str, maximum: str
    ) -> None:
        found = [
            f for f in run(context(course("o1", drug, amount, frequency))) if f.kind == "max_dose"
        ]
        assert any(f.severity == "major" and f"{maximum} maximum" in f.message for f in found)


class TestDosesNotChecked:
    def test_a_psychiatric_drug_by_a_route_no_maximum_covers_says_so(self) -> None:
        ctx = context(course("o1", "haloperidol", 100, "monthly", route="intramuscular"))
        [found] = by_rule(run(ctx), "PACK-DOSE-NOT-CHECKED")
        assert found.severity == "info"
        assert found.message == (
            "Dose not checked: no maximum in the rule pack for haloperidol given by the "
            "intramuscular route."
        )

    def test_a_covered_dose_and_a_documented_exception_say_nothing(self) -> None:
        ctx = context(course("o1", "sertraline", 50), course("o2", "lithium", 400))
        assert by_rule(run(ctx), "PACK-DOSE-NOT-CHECKED") == []


def clonazepam(daily: float, indication: str | None) -> Any:
    return replace(
        course("o1", "clonazepam", daily / 3, "three times daily"), indication=indication
    )


class TestIndicationSpecificMaxima:
    @pytest.mark.parametrize(
        ("indication", "severity", "words"),
        [
            ("panic disorder", "major", "exceeds the 4 mg/day maximum for panic disorder"),
            ("Panic disorder without agoraphobia (F41.0)", "major", "for panic disorder"),
            ("F410", "major", "for panic disorder"),
            ("nerves", "moderate", "the indication 'nerves' does not say which applies"),
            (None, "moderate", "no indication is recorded"),
        ],
    )
    def test_clonazepam_9_mg_a_day(self, indication: str | None, severity: str, words: str) -> None:
        [found] = by_rule(run(context(clonazepam(9, indication))), "MAX-CLONAZEPAM")
        assert found.severity == severity
        assert words in found.message

    def test_clonazepam_9_mg_a_day_for_seizures_is_within_the_seizure_maximum(self) -> None:
        assert (
            by_rule(run(context(clonazepam(9, "myoclonic seizures (G40.3)"))), "MAX-CLONAZEPAM")
            == []
        )

    def test_above_the_general_maximum_the_alert_says_what_it_assumed(self) -> None:
        [found] = by_rule(run(context(clonazepam(24, "nerves"))), "MAX-CLONAZEPAM")
        assert found.severity == "major"
        assert "matches none of the labelled ones (panic disorder, seizure disorders)" in (
            found.message
        )

    @pytest.mark.parametrize(
        ("drug", "indication", "daily", "maximum"),
        [
            ("quetiapine", "bipolar depression", 400, "300 mg/day maximum for bipolar depression"),
            ("aripiprazole", "MDD, adjunct to sertraline", 20, "15 mg/day maximum"),
            ("fluoxetine", "bulimia nervosa", 70, "60 mg/day maximum for bulimia nervosa"),
            ("lurasidone", "bipolar I depression", 140, "120 mg/day maximum"),
            ("brexpiprazole", "agitation in Alzheimer's dementia", 4, "3 mg/day maximum"),
        ],
    )
    def test_an_indications_lower_maximum_applies(
        self, drug: str, indication: str, daily: float, maximum: str
    ) -> None:
        order = replace(course("o1", drug, daily), indication=indication)
        found = [f for f in run(context(order)) if f.rule_id == f"MAX-{drug.upper()}"]
        assert [f.severity for f in found] == ["major"]
        assert maximum in found[0].message

    def test_icd10_codes_are_read_with_or_without_their_dot(self) -> None:
        assert codes("F41.0; g40.909 and F410") == ["F41.0", "G40.909", "F41.0"]


LIMITED = sorted(
    {limit.drug for limit in PACK.dose_limits if not limit.routes or "oral" in limit.routes}
)


def ceiling(drug: str, route: str = "oral") -> float:
    return max(
        most_generous(limit)
        for limit in PACK.dose_limits
        if limit.drug == drug and (not limit.routes or route in limit.routes)
    )


class TestImplausibleDoses:
    @pytest.mark.parametrize("drug", LIMITED)
    def test_ten_times_the_most_generous_maximum_passes_and_more_is_refused(
        self, drug: str
    ) -> None:
        top = ceiling(drug)
        identity = PACK.identify(drug)
        at = implausible_dose(
            identity, PACK.dose_limits, "oral", top * IMPLAUSIBLE_FACTOR, "mg", "once daily"
        )
        over = implausible_dose(
            identity, PACK.dose_limits, "oral", top * IMPLAUSIBLE_FACTOR * 1.01, "mg", "once daily"
        )
        assert at is None
        assert over is not None
        assert "Check the amount and its unit" in over

    @given(
        drug=st.sampled_from(LIMITED),
        fraction=st.floats(min_value=0.01, max_value=1.0),
        frequency=st.sampled_from(["once daily", "twice daily", "three times daily", "at night"]),
    )
    def test_no_dose_within_a_label_maximum_is_ever_refused(
        self, drug: str, fraction: float, frequency: str
    ) -> None:
        daily = ceiling(drug) * fraction
        amount = daily / doses_per_day(frequency)
        assert (
            implausible_dose(PACK.identify(drug), PACK.dose_limits, "oral", amount, "mg", frequency)
            is None
        )

    def test_sertraline_50000_mg_is_implausible_and_the_message_gives_the_figures(self) -> None:
        why = implausible_dose(
            PACK.identify("sertraline"), PACK.dose_limits, "oral", 50000, "mg", "once daily"
        )
        assert why is not None
        assert "50000 mg of sertraline a dose (50000 mg/day)" in why
        assert "(200 mg/day)" in why

    def test_a_combination_is_judged_per_ingredient_from_its_strength(self) -> None:
        why = implausible_dose(
            PACK.identify("Symbyax 12/50"), PACK.dose_limits, "oral", 20, "units", "once daily"
        )
        assert why is not None
        assert "of its olanzapine" in why
        assert (
            implausible_dose(
                PACK.identify("Symbyax 12/50"), PACK.dose_limits, "oral", 2, "units", "once daily"
            )
            is None
        )

    @pytest.mark.parametrize("typed", ["Foozol", "amitriptyline/foozol", "Zoloft (fluoxetine)"])
    def test_a_name_the_pack_cannot_dose_is_left_to_the_alerts(self, typed: str) -> None:
        identity = PACK.identify(typed)
        assert implausible_dose(identity, PACK.dose_limits, "oral", 1e6, "mg", "once daily") is None

    def test_a_product_without_its_strength_is_judged_at_its_smallest_strength(self) -> None:
        symbyax = PACK.identify("Symbyax")
        assert implausible_dose(symbyax, PACK.dose_limits, "oral", 2, "units", "once daily") is None
        why = implausible_dose(symbyax, PACK.dose_limits, "oral", 500, "units", "once daily")
        assert why is not None
        assert "1500 mg of its olanzapine" in why  # 500 x 3 mg, the smallest strength

    def test_a_combination_dosed_by_mass_is_refused_only_if_no_reading_is_plausible(
        self,
    ) -> None:
        symbyax = PACK.identify("Symbyax")
        assert implausible_dose(symbyax, PACK.dose_limits, "oral", 800, "mg", "once daily") is None
        why = implausible_dose(symbyax, PACK.dose_limits, "oral", 50000, "mg", "once daily")
        assert why is not None
        assert "the sum of its ingredients' highest maxima (100 mg/day)" in why

    def test_a_depot_by_a_route_without_a_maximum_is_left_to_the_alerts(self) -> None:
        assert (
            implausible_dose(
                PACK.identify("haloperidol"),
                PACK.dose_limits,
                "intramuscular",
                450,
                "mg",
                "monthly",
            )
            is None
        )


BENZODIAZEPINES = sorted(
    name
    for name, info in PACK.drugs.items()
    if "benzodiazepine" in info.classes and name not in ("clonazepam", "alprazolam")
)


class TestBenzodiazepineTaperSteps:
    @given(
        drug=st.sampled_from(BENZODIAZEPINES),
        before=st.floats(min_value=0.5, max_value=40),
        fraction=st.floats(min_value=0.01, max_value=0.99),
    )
    def test_a_step_down_alerts_exactly_when_it_cuts_more_than_a_quarter(
        self, drug: str, before: float, fraction: float
    ) -> None:
        after = before * (1 - fraction)
        order = course("o1", drug, steps=[step(T0, before), step(T0 + days(14), after)])
        findings = evaluate(context(order), Change("dose_changed", T0 + days(14), "o1"))
        cuts = by_rule(findings, "TAPER-BENZODIAZEPINE")
        cut = (before - after) / before
        if cut > 0.25 + 1e-6:
            assert [f.severity for f in cuts] == ["major"]
        elif cut < 0.25 - 1e-6:
            assert cuts == []

    @pytest.mark.parametrize("drug", ["lorazepam", "diazepam", "clonazepam", "alprazolam"])
    def test_a_benzodiazepine_halved_in_one_step_alerts(self, drug: str) -> None:
        order = course("o1", drug, steps=[step(T0, 4), step(T0 + days(14), 2)])
        findings = evaluate(context(order), Change("dose_changed", T0 + days(14), "o1"))
        assert [f.severity for f in findings if f.kind == "abrupt_stop"] == ["major"]


def refusal(tmp_path: Path, change: Any) -> str:
    raw = json.loads(json.dumps(RAW))
    change(raw)
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(RulePackError) as refused:
        load_rule_pack(path)
    return str(refused.value)


class TestMalformedNewSections:
    def test_a_combination_of_an_unknown_drug_is_refused(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            raw["combinations"]["symbyax"]["ingredients"] = ["olanzapine", "fluoxetin"]

        assert "combination symbyax" in refusal(tmp_path, change)

    def test_a_combination_strength_per_ingredient_is_required(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            raw["combinations"]["nuedexta"]["strengths_mg"] = [[20]]

        assert "strengths_mg" in refusal(tmp_path, change)

    def test_a_combination_named_like_a_drug_is_refused(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            raw["combinations"]["symbyax"]["aliases"] = ["Prozac"]

        assert "Prozac" in refusal(tmp_path, change)

    def test_the_high_risk_side_must_name_known_classes(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            raw["unknown_drug_high_risk"]["beside"]["classes"] = ["mao"]

        assert "mao" in refusal(tmp_path, change)

    def test_a_no_label_maximum_entry_needs_its_reason(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            del raw["dose_coverage"]["no_label_maximum"][0]["reason"]

        assert "reason" in refusal(tmp_path, change)

    def test_an_indication_entry_that_matches_nothing_is_refused(self, tmp_path: Path) -> None:
        def change(raw: dict[str, Any]) -> None:
            limit = next(r for r in raw["dose_limits"] if r["id"] == "MAX-CLONAZEPAM")
            limit["indications"][0]["words"] = []
            limit["indications"][0]["icd10"] = []

        assert "MAX-CLONAZEPAM" in refusal(tmp_path, change)


class TestBenzodiazepineStepsAddUpWithinTwoWeeks:
    def _two_cuts(self, gap: float) -> list[Any]:
        doses = [step(T0, 4), step(T0 + days(20), 3), step(T0 + days(20 + gap), 2.25)]
        order = course("o1", "lorazepam", steps=doses)
        at = T0 + days(20 + gap)
        return by_rule(
            evaluate(context(order), Change("dose_changed", at, "o1")), "TAPER-BENZODIAZEPINE"
        )

    def test_two_quarter_cuts_within_14_days_alert_as_one_cut(self) -> None:
        [found] = self._two_cuts(gap=3)
        assert "cut from 4 to 2.25 mg/day (43.75%; the limit is 25%" in found.message

    def test_two_quarter_cuts_14_days_apart_are_a_gradual_taper(self) -> None:
        assert self._two_cuts(gap=14) == []

    @given(
        first=st.floats(min_value=0.0, max_value=0.25),
        second=st.floats(min_value=0.0, max_value=0.25),
        gap=st.floats(min_value=0.5, max_value=30),
    )
    def test_within_the_interval_the_cuts_are_judged_together(
        self, first: float, second: float, gap: float
    ) -> None:
        middle = 8 * (1 - first)
        last = middle * (1 - second)
        doses = [step(T0, 8), step(T0 + days(20), middle), step(T0 + days(20 + gap), last)]
        at = T0 + days(20 + gap)
        order = course("o1", "diazepam", steps=doses)
        found = by_rule(
            evaluate(context(order), Change("dose_changed", at, "o1")), "TAPER-BENZODIAZEPINE"
        )
        together = (8 - last) / 8
        if last >= middle:
            assert found == []
        elif gap < 14 and together > 0.25 + 1e-6:
            assert len(found) == 1
        elif gap >= 14 or together < 0.25 - 1e-6:
            assert found == []


TYPED = st.one_of(
    st.sampled_from(sorted(PACK.drugs)),
    st.sampled_from(sorted(c.display for c in PACK.combinations.values())),
    st.text(alphabet="abcdefghz /-()+0123456789", min_size=1, max_size=30),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(sorted(PACK.drugs)), st.text(min_size=1)),
)


class TestPlausibilityNeverFails:
    @given(
        typed=TYPED,
        amount=st.floats(min_value=1e-6, max_value=1e9),
        unit=st.sampled_from(["mg", "mcg", "g", "mL", "units"]),
        route=st.sampled_from(["oral", "intramuscular", "transdermal", "intravenous"]),
    )
    def test_any_name_and_dose_gets_an_answer_not_an_error(
        self, typed: str, amount: float, unit: str, route: str
    ) -> None:
        why = implausible_dose(PACK.identify(typed), PACK.dose_limits, route, amount, unit, "daily")
        assert why is None or "Check the amount and its unit" in why
