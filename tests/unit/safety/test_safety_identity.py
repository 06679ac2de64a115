"""Drug identity: typed names read into their ingredients, and every rule meeting every
ingredient of a combination product (issue 18, item 4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import PACK, T0, by_rule, context, course, days, run, step

from domain.safety import Change, MedicationCourse, evaluate
from domain.safety.plan_view import PlanView


def ingredients(typed: str) -> list[tuple[str | None, float | None]]:
    return [(p.info.name if p.info else None, p.strength_mg) for p in PACK.identify(typed).parts]


def units(
    order_id: str,
    drug: str,
    count: float,
    frequency: str = "once daily",
    *,
    start: datetime = T0,
    stopped_at: datetime | None = None,
) -> MedicationCourse:
    """An order of a combination product as a number of tablets or capsules."""
    doses = [step(start, count, frequency, "units")]
    return course(order_id, drug, start=start, stopped_at=stopped_at, steps=doses)


class TestReadingTypedNames:
    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("Symbyax", [("olanzapine", None), ("fluoxetine", None)]),
            ("Symbyax 12/50", [("olanzapine", 12.0), ("fluoxetine", 50.0)]),
            ("olanzapine/fluoxetine", [("olanzapine", None), ("fluoxetine", None)]),
            ("olanzapine-fluoxetine", [("olanzapine", None), ("fluoxetine", None)]),
            ("olanzapine and fluoxetine 6/25", [("olanzapine", 6.0), ("fluoxetine", 25.0)]),
            ("fluoxetine/olanzapine 25/6", [("fluoxetine", 25.0), ("olanzapine", 6.0)]),
            ("olanzapine 6 mg / fluoxetine 25 mg", [("olanzapine", 6.0), ("fluoxetine", 25.0)]),
            ("Nuedexta", [("dextromethorphan", 20.0), ("quinidine", 10.0)]),
            ("Auvelity", [("dextromethorphan", 45.0), ("bupropion", 105.0)]),
            ("Lybalvi 10/10", [("olanzapine", 10.0), ("samidorphan", 10.0)]),
            ("Cobenfy", [("xanomeline", None), ("trospium", None)]),
            ("Limbitrol DS", [("chlordiazepoxide", None), ("amitriptyline", None)]),
            ("perphenazine/amitriptyline 4/25", [("perphenazine", 4.0), ("amitriptyline", 25.0)]),
            ("Caplyta", [("lumateperone", None)]),
            ("Zoloft (sertraline)", [("sertraline", None)]),
            ("sertraline (Zoloft) 50 mg", [("sertraline", None)]),
            ("Ery-Tab", [("erythromycin", None)]),
            ("fluoxetine 20 mg/5 mL", [("fluoxetine", None)]),
            ("Foozol", [(None, None)]),
            ("amitriptyline/foozol", [("amitriptyline", None), (None, None)]),
        ],
    )
    def test_a_typed_name_means_its_ingredients(
        self, typed: str, expected: list[tuple[str | None, float | None]]
    ) -> None:
        assert ingredients(typed) == expected

    def test_a_bracketed_name_that_contradicts_keeps_both_drugs(self) -> None:
        identity = PACK.identify("Zoloft (fluoxetine)")
        assert [p.info.name for p in identity.parts if p.info] == ["sertraline", "fluoxetine"]
        assert identity.conflict
        assert "different drugs" in (identity.share_problem() or "")

    def test_a_generic_pair_that_is_a_marketed_product_is_that_product(self) -> None:
        assert PACK.identify("olanzapine/fluoxetine").product == "Symbyax"
        assert PACK.identify("fluoxetine/amitriptyline").product is None


def found(
    ctx_courses: list[MedicationCourse], kind: str = "prescribed", order: str = "o2"
) -> dict[str, list[str]]:
    findings = evaluate(context(*ctx_courses), Change(kind, T0 + days(20), order))
    rules: dict[str, list[str]] = {}
    for f in findings:
        rules.setdefault(f.rule_id, []).append(f.message)
    return rules


class TestCombinationCourses:
    def test_each_ingredient_gets_its_share_of_a_dose_in_units(self) -> None:
        ctx = context(units("o1", "Symbyax 12/50", 2, "twice daily"))
        view = PlanView(ctx, Change("lab", T0), PACK.index, PACK.test_names)
        shares = {c.drug: (c.steps[-1].amount, c.steps[-1].unit) for c in view.courses}
        assert shares == {"olanzapine": (24.0, "mg"), "fluoxetine": (100.0, "mg")}

    def test_a_dose_in_mg_of_a_combination_is_not_mistaken_for_an_ingredients(self) -> None:
        rules = found([course("o2", "Symbyax 12/50", 30)])
        assert "MAX-OLANZAPINE" not in rules
        assert "MAX-FLUOXETINE" not in rules
        [message] = rules["PACK-DOSE-NOT-CHECKED"]
        assert message.startswith("Dose not checked for Symbyax 12/50 (fluoxetine and olanzapine)")

    def test_the_ingredients_of_a_marketed_product_are_not_an_interaction(self) -> None:
        rules = found([units("o2", "Triavil 4/25", 1)])
        assert [r for r in rules if r.startswith("DDI-")] == []

    def test_two_drugs_typed_into_one_order_are_checked_against_each_other(self) -> None:
        rules = found([course("o2", "fluoxetine/amitriptyline", 10)])
        assert "DDI-06" in rules

    def test_a_combination_beside_its_own_ingredient_is_duplicate_therapy(self) -> None:
        rules = found([units("o1", "Symbyax 6/25", 1), course("o2", "fluoxetine", 20)])
        [message] = rules["DDI-31A"]
        assert "Symbyax 6/25 (fluoxetine)" in message
        assert "MAX-FLUOXETINE" not in rules  # 25 + 20 mg/day is within 80 mg/day

    def test_the_ingredient_and_a_separate_order_add_up_to_one_maximum(self) -> None:
        rules = found([units("o1", "Symbyax 12/50", 1), course("o2", "fluoxetine", 40)])
        [message] = rules["MAX-FLUOXETINE"]
        assert "90 mg/day exceeds the 80 mg/day maximum" in message


class TestOpioidAntagonists:
    def test_lybalvi_beside_an_opioid_is_contraindicated_for_its_samidorphan(self) -> None:
        rules = found([course("o1", "oxycodone", 5), units("o2", "Lybalvi 10/10", 1)])
        [message] = rules["DDI-36"]
        assert "Lybalvi 10/10 (samidorphan) with oxycodone" in message

    def test_naloxone_rescue_beside_an_opioid_is_not_an_antagonist_interaction(self) -> None:
        rules = found(
            [course("o1", "oxycodone", 5), course("o2", "naloxone", 4, route="intranasal")]
        )
        assert "DDI-36" not in rules


class TestRulesAboutAChangeMeetEveryIngredient:
    def test_stopping_symbyax_without_a_taper_is_an_abrupt_stop_of_its_fluoxetine(self) -> None:
        order = replace(units("o2", "Symbyax 6/25", 1), stopped_at=T0 + days(20))
        rules = found([order], kind="discontinued")
        assert any("Symbyax 6/25 (fluoxetine)" in m for m in rules["TAPER-SSRI-SNRI"])

    def test_symbyax_soon_after_an_maoi_breaks_the_washout(self) -> None:
        maoi = course("o1", "phenelzine", 15, stopped_at=T0 + days(10))
        started = units("o2", "Symbyax 6/25", 1, start=T0 + days(20))
        findings = evaluate(context(maoi, started), Change("prescribed", T0 + days(20), "o2"))
        washouts = [f for f in findings if f.kind == "washout"]
        assert [(f.rule_id, f.severity) for f in washouts] == [
            ("WASH-AFTER-MAOI", "contraindicated")
        ]
        assert "Symbyax 6/25 (fluoxetine)" in washouts[0].message


INDEX = (PACK.index, PACK.test_names)
HIGH_RISK = PACK.unknown_high_risk
assert HIGH_RISK is not None
BESIDE = sorted(HIGH_RISK.beside.members(PACK.drugs))


class TestAnUnknownDrugBesideAHighRiskOne:
    @pytest.mark.parametrize("drug", BESIDE)
    def test_it_is_a_major_alert_naming_the_high_risk_drug(self, drug: str) -> None:
        route = "intravenous" if drug == "methylene blue" else "oral"
        ctx = context(course("o1", drug, 10, route=route), course("o2", "Foozol", 5))
        [alert] = [f for f in run(ctx) if f.kind == "unknown_drug"]
        assert (alert.rule_id, alert.severity) == ("PACK-UNKNOWN-DRUG-HIGH-RISK", "major")
        assert f"could not be checked against {PACK.drugs[drug].display}" in alert.message
        assert alert.order_ids == ("o1", "o2")

    def test_beside_an_ordinary_drug_it_stays_informational(self) -> None:
        ctx = context(course("o1", "sertraline", 50), course("o2", "Foozol", 5))
        [alert] = [f for f in run(ctx) if f.kind == "unknown_drug"]
        assert (alert.rule_id, alert.severity) == ("PACK-UNKNOWN-DRUG", "info")

    def test_an_unknown_ingredient_of_a_typed_pair_is_reported_by_its_own_name(self) -> None:
        ctx = context(course("o1", "phenelzine", 15), course("o2", "amitriptyline/foozol", 5))
        alerts = by_rule(run(ctx), "PACK-UNKNOWN-DRUG-HIGH-RISK")
        assert any(a.message.startswith("Foozol (in amitriptyline/foozol)") for a in alerts)


BRANDED = sorted(
    (alias, name)
    for name, info in PACK.drugs.items()
    for alias in info.aliases
    if "(" not in alias and "/" not in alias
)
NAMES = sorted(PACK.drugs)


class TestNamePropertiesOverThePack:
    @given(st.sampled_from(BRANDED), st.booleans())
    def test_brand_and_generic_in_brackets_either_way_round_reach_the_drug(
        self, branded: tuple[str, str], brand_first: bool
    ) -> None:
        alias, name = branded
        display = PACK.drugs[name].display
        typed = f"{alias} ({display})" if brand_first else f"{display} ({alias})"
        assert [p.info.name for p in PACK.identify(typed).parts if p.info] == [name]

    @given(
        st.lists(st.sampled_from(NAMES), min_size=2, max_size=3, unique=True),
        st.sampled_from(["/", " + ", "-", " and ", " with "]),
    )
    def test_generic_names_joined_in_one_order_reach_every_drug(
        self, names: list[str], joiner: str
    ) -> None:
        typed = joiner.join(PACK.drugs[n].display for n in names)
        found = [p.info.name if p.info else None for p in PACK.identify(typed).parts]
        assert sorted(n for n in found if n) == sorted(names), typed

    @given(
        st.sampled_from(sorted(PACK.combinations)),
        st.integers(min_value=1, max_value=4),
        st.sampled_from(["once daily", "twice daily", "three times daily"]),
    )
    def test_each_ingredient_gets_count_times_its_strength(
        self, product: str, count: int, frequency: str
    ) -> None:
        combination = PACK.combinations[product]
        strengths = combination.strengths[-1]
        typed = f"{combination.display} {'/'.join(f'{s:g}' for s in strengths)}"
        view = PlanView(context(units("o1", typed, count, frequency)), Change("lab", T0), *INDEX)
        shares = {c.drug: c.steps[-1].amount for c in view.courses}
        assert shares == {
            name: count * strength
            for name, strength in zip(combination.ingredients, strengths, strict=True)
        }
        assert all(c.share_problem is None for c in view.courses)


class TestAnyTypedNameIsEvaluated:
    @given(
        st.one_of(
            st.text(alphabet="abcdefghz /-()+,&0123456789.", min_size=1, max_size=40),
            st.builds(
                lambda a, b, j: f"{a}{j}{b}",
                st.sampled_from(NAMES),
                st.text(alphabet="abcxyz (/)0123456789", min_size=1, max_size=12),
                st.sampled_from(["/", " (", "-", " and "]),
            ),
        ),
        st.sampled_from(["mg", "units", "mL"]),
    )
    def test_no_name_breaks_the_rules(self, typed: str, unit: str) -> None:
        order = course("o2", typed, steps=[step(T0, 2, "twice daily", unit)])
        beside = course("o1", "phenelzine", 15)
        findings = evaluate(context(beside, order), Change("prescribed", T0, "o2"))
        # every finding names its orders, but the PHQ-9 reassessment reminder: it is about
        # the patient on antidepressants (one per patient), not about one order
        assert all(f.order_ids for f in findings if f.kind != "reassessment_due")
