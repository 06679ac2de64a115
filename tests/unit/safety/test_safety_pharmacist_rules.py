"""The rules behind the clinical pharmacist's cases, without HTTP: strong CYP3A4
inhibitors, lithium's usual range and the absolute ceilings, liquids named with their
concentration, indication maxima by formulation, lab test names with a method, the
smoking states and the reactions a drug is stopped at once for."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import PACK, T0, by_rule, context, course, days, run, step

from domain.dose import Dose
from domain.safety.drugs import without_method
from domain.safety.indications import IndicationMax
from domain.safety.interactions import PairRule
from domain.safety.plausibility import implausible_dose
from domain.safety.tapering import TaperRule, stopped_at_once_for
from services.writing.dose_plausibility import _ceilings

CEILINGS = _ceilings(PACK)


def pair(rule_id: str) -> PairRule:
    rule = next(r for r in PACK.interactions if r.rule.id == rule_id)
    assert isinstance(rule, PairRule)
    return rule


class TestStrongCyp3a4Inhibitors:
    def test_the_azoles_that_are_strong_inhibitors_are_in_the_class_and_fluconazole_is_not(
        self,
    ) -> None:
        strong = {n for n, d in PACK.drugs.items() if "strong_cyp3a4_inhibitor" in d.classes}
        assert {"ketoconazole", "itraconazole", "voriconazole", "posaconazole"} <= strong
        assert "fluconazole" not in strong

    @pytest.mark.parametrize(
        ("drug", "rule_id"),
        [("lurasidone", "DDI-41A"), ("triazolam", "DDI-41B"), ("midazolam", "DDI-41C")],
    )
    def test_every_strong_inhibitor_is_contraindicated_with_the_drug(
        self, drug: str, rule_id: str
    ) -> None:
        inhibitors = [n for n, d in PACK.drugs.items() if "strong_cyp3a4_inhibitor" in d.classes]
        for inhibitor in inhibitors:
            ctx = context(course("a", drug), course("b", inhibitor))
            found = by_rule(run(ctx, "prescribed", T0, "b"), rule_id)
            assert [f.severity for f in found] == ["contraindicated"], inhibitor

    def test_intravenous_midazolam_is_not_covered_by_the_oral_rule(self) -> None:
        ctx = context(course("a", "midazolam", route="intravenous"), course("b", "ketoconazole"))
        assert by_rule(run(ctx, "prescribed", T0, "b"), "DDI-41C") == []

    def test_the_voriconazole_rule_supersedes_the_carbamazepine_inhibitor_rule(self) -> None:
        ctx = context(course("a", "carbamazepine", 200), course("b", "voriconazole", 200))
        found = [f for f in run(ctx, "prescribed", T0, "b") if f.kind == "interaction"]
        assert [f.rule_id for f in found] == ["DDI-32C"]
        assert "lowers voriconazole levels" in found[0].message

    @pytest.mark.parametrize(
        ("partner", "rule_id", "severity"),
        [
            ("itraconazole", "DDI-32D", "major"),
            ("ritonavir", "DDI-32D", "major"),
            ("cobicistat", "DDI-32E", "contraindicated"),
            ("clarithromycin", "DDI-32A", "major"),
        ],
    )
    def test_carbamazepine_with_each_inhibitor_says_which_way_the_levels_go(
        self, partner: str, rule_id: str, severity: str
    ) -> None:
        ctx = context(course("a", "carbamazepine", 200), course("b", partner, 200))
        found = [f for f in run(ctx, "prescribed", T0, "b") if f.kind == "interaction"]
        assert [(f.rule_id, f.severity) for f in found] == [(rule_id, severity)]

    @pytest.mark.parametrize(
        ("drug", "rule_id"), [("buspirone", "DDI-41F"), ("oxycodone", "DDI-41G")]
    )
    def test_a_strong_inhibitor_beside_buspirone_or_an_opioid_is_major(
        self, drug: str, rule_id: str
    ) -> None:
        ctx = context(course("a", drug, 10), course("b", "clarithromycin", 500))
        found = by_rule(run(ctx, "prescribed", T0, "b"), rule_id)
        assert [f.severity for f in found] == ["major"]

    def test_vilazodone_is_capped_at_20_mg_beside_a_strong_inhibitor(self) -> None:
        ctx = context(course("v", "vilazodone", 40), course("k", "ketoconazole", 200))
        [alert] = by_rule(run(ctx, "prescribed", T0, "k"), "MAX-VILAZODONE")
        assert "20 mg/day" in alert.message


class TestDoseUnits:
    @pytest.mark.parametrize("unit", ["tablet", "Tablets", "tab", "capsule", "caps"])
    def test_tablets_and_capsules_are_dose_units(self, unit: str) -> None:
        assert Dose.parse({"amount": 2, "unit": unit}).unit == "units"


class TestLithiumUsualRangeAndCeilings:
    def test_above_1800_mg_a_day_is_a_major_usual_range_alert(self) -> None:
        ctx = context(course("li", "lithium", 900, "three times daily"))
        [alert] = by_rule(run(ctx, "prescribed", T0, "li"), "PACK-DOSE-USUAL-RANGE")
        assert alert.severity == "major"
        assert "not a hard maximum" in alert.message

    def test_1800_mg_a_day_is_within_the_usual_range(self) -> None:
        ctx = context(course("li", "lithium", 600, "three times daily"))
        assert by_rule(run(ctx, "prescribed", T0, "li"), "PACK-DOSE-USUAL-RANGE") == []

    @given(daily=st.floats(min_value=1, max_value=100_000, allow_nan=False))
    def test_lithium_is_refused_exactly_above_its_ceiling(self, daily: float) -> None:
        why = implausible_dose(
            PACK.identify("lithium"), PACK.dose_limits, "oral", daily, "mg", "once daily",
            ceilings=CEILINGS,
        )  # fmt: skip
        assert (why is not None) == (daily > 18000)

    def test_valproate_50_g_is_refused_and_9_g_is_not(self) -> None:
        identity = PACK.identify("valproate")
        args = (PACK.dose_limits, "oral")
        assert implausible_dose(identity, *args, 25000, "mg", "twice daily", ceilings=CEILINGS)
        assert not implausible_dose(identity, *args, 4500, "mg", "twice daily", ceilings=CEILINGS)


class TestLiquidsWithAConcentration:
    @pytest.mark.parametrize(
        ("typed", "drug", "per_ml"),
        [
            ("sertraline oral concentrate 20 mg/mL", "sertraline", 20.0),
            ("sertraline 20 mg/mL oral concentrate", "sertraline", 20.0),
            ("Zoloft oral concentrate", "sertraline", None),
            ("fluoxetine 20 mg/5 mL", "fluoxetine", 4.0),
            ("lithium citrate 8 mEq/5 mL", "lithium", 8 / 5 * 300 / 8.12),
        ],
    )
    def test_the_name_is_one_drug_with_its_mg_per_ml(
        self, typed: str, drug: str, per_ml: float | None
    ) -> None:
        [part] = PACK.identify(typed).parts
        assert part.info is not None
        assert part.info.name == drug
        assert part.mg_per_ml == (pytest.approx(per_ml) if per_ml is not None else None)

    @given(
        strength=st.integers(min_value=1, max_value=500),
        volume=st.integers(min_value=1, max_value=20),
        dose_ml=st.integers(min_value=1, max_value=40),
    )
    def test_a_dose_in_ml_is_checked_as_its_mg(
        self, strength: int, volume: int, dose_ml: int
    ) -> None:
        typed = f"sertraline {strength} mg/{volume} mL"
        ctx = context(replace(course("s", typed, steps=[step(T0, dose_ml, unit="mL")]), drug=typed))
        found = by_rule(run(ctx, "prescribed", T0, "s"), "MAX-SERTRALINE")
        daily = strength / volume * dose_ml
        assert bool([f for f in found if "exceeds" in f.message]) == (daily > 200 + 1e-6)

    def test_a_dose_in_ml_without_a_concentration_still_meets_the_interactions(self) -> None:
        plain = course("s", "sertraline", steps=[step(T0, 5, unit="mL")])
        found = run(context(course("m", "phenelzine", 15), plain), "prescribed", T0, "s")
        assert [f.severity for f in by_rule(found, "DDI-01A")] == ["contraindicated"]
        [unchecked] = by_rule(found, "MAX-SERTRALINE")
        assert unchecked.severity == "info"
        assert "write its concentration with the drug name" in unchecked.message

    def test_a_combination_with_a_ratio_is_still_split(self) -> None:
        assert len(PACK.identify("Symbyax 6/25").parts) == 2


class TestIndicationMaximaByForm:
    def test_a_form_listed_has_its_own_figure_and_the_others_the_entrys(self) -> None:
        entry = IndicationMax(
            "major depressive disorder", 50, ("depressi",), ("F32",), (("CR", 62.5),)
        )
        assert (entry.max_for("IR"), entry.max_for("CR")) == (50, 62.5)

    @pytest.mark.parametrize(
        ("typed", "amount", "expected"),
        [("paroxetine IR", 55, "major"), ("paroxetine", 55, "moderate"), ("Paxil CR", 62.5, None)],
    )
    def test_paroxetine_for_depression(self, typed: str, amount: float, expected: str) -> None:
        medication = replace(course("p", typed, amount), indication="F32.9")
        found = by_rule(run(context(medication), "prescribed", T0, "p"), "MAX-PAROXETINE")
        assert [f.severity for f in found] == ([expected] if expected else [])


class TestLabTestNames:
    @pytest.mark.parametrize(
        ("typed", "test"),
        [
            ("eGFR (CKD-EPI)", "renal_function"),
            ("CrCl (Cockcroft-Gault)", "renal_function"),
            ("Creatinine clearance", "renal_function"),
            ("estimated GFR", "renal_function"),
            ("cystatin C", None),
        ],
    )
    def test_the_method_in_brackets_does_not_change_the_test(
        self, typed: str, test: str | None
    ) -> None:
        assert PACK.lab_test(typed) == test

    def test_without_method_drops_only_the_bracketed_part(self) -> None:
        assert without_method("eGFR (CKD-EPI) ") == "egfr"


class TestStoppedAtOnce:
    def rule(self, rule_id: str) -> TaperRule:
        return next(r for r in PACK.tapers if r.rule.id == rule_id)

    @pytest.mark.parametrize(
        ("rule_id", "reason", "found"),
        [
            ("TAPER-CLOZAPINE", "Severe neutropenia (ANC 800)", True),
            ("TAPER-CLOZAPINE", "suspected myocarditis", True),
            ("TAPER-CLOZAPINE", "patient wish", False),
            ("TAPER-LAMOTRIGINE", "rash with fever", True),
            ("TAPER-VALPROATE-CARBAMAZEPINE", "hepatotoxicity", True),
            ("TAPER-SSRI-SNRI", "serotonin syndrome", True),
            ("TAPER-BENZODIAZEPINE", "neutropenia", False),
        ],
    )
    def test_the_reason_is_read_for_the_reactions_of_the_drugs_label(
        self, rule_id: str, reason: str, found: bool
    ) -> None:
        assert (stopped_at_once_for(self.rule(rule_id), reason) is not None) == found

    def test_clozapine_stopped_for_agranulocytosis_gets_the_note_not_the_taper_alert(self) -> None:
        stopped = replace(
            course("c", "clozapine", 200, start=T0 - days(400), stopped_at=T0),
            stop_reason="agranulocytosis",
        )
        [note] = by_rule(run(context(stopped), "discontinued", T0, "c"), "TAPER-CLOZAPINE")
        assert note.kind == "side_effect"
        assert "cholinergic rebound" in note.message
