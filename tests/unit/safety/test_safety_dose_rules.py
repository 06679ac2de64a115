"""Every maximum-dose rule and each of its conditions, generated from the pack data."""

from __future__ import annotations

from dataclasses import replace

import pytest
from safety_cases import (
    PACK,
    T0,
    born_aged,
    by_rule,
    context,
    course,
    run,
    satisfy,
    step,
    with_extra,
)

from domain.safety import Change, Finding, LabResult, PatientContext
from domain.safety.conditions import holds
from domain.safety.dose_forms import Maximum
from domain.safety.dose_limits import Adjustment, DoseLimit, check_dose_limits
from domain.safety.indications import indication_of
from domain.safety.plan_view import PlanView
from domain.safety.wording import mg

LIMITS = list(PACK.dose_limits)
ADJUSTED = [(limit, adj) for limit in LIMITS for adj in limit.adjustments]
WEIGHT = 70.0
PACK_LIMITS = {limit.rule.id: limit for limit in LIMITS}
INDEX = (PACK.index, PACK.test_names)
FORM_CASES = [(limit, form) for limit in LIMITS for form in sorted(limit.forms.figures) or [None]]
"""Each limit once per formulation it gives figures for (None: the rule's own figures)."""


def figures(limit: DoseLimit, form: str | None) -> Maximum:
    return limit.forms.figures[form] if form else limit.own


def base_mg(limit: DoseLimit, form: str | None = None) -> float:
    """The outpatient maximum in mg/day (unknown formulation: the highest of the forms)."""
    if limit.per_kg:
        return limit.max_per_day * WEIGHT
    return figures(limit, form).per_day if form else limit.max_per_day


def doses_a_day(limit: DoseLimit, form: str | None) -> int:
    """Enough doses a day to stay within any single-dose maximum near the daily one."""
    many = (form is None and bool(limit.forms.figures)) or figures(limit, form).per_dose
    return 4 if many else 2


def base_context(
    limit: DoseLimit, daily: float, form: str | None = None, order_id: str = "o1"
) -> PatientContext:
    facts = {"weight_kg": str(WEIGHT)} if limit.per_kg else {}
    n = doses_a_day(limit, form)
    frequency = {2: "twice daily", 4: "four times daily"}[n]
    dosed = replace(
        course(order_id, limit.drug, daily / n, frequency, route=route_of(limit)),
        formulation=form,
        indication=general_indication(limit),
    )
    return context(dosed, facts=facts)


def route_of(limit: DoseLimit) -> str:
    """A route the limit covers (oral where it does)."""
    return "oral" if not limit.routes or "oral" in limit.routes else sorted(limit.routes)[0]


def general_indication(limit: DoseLimit) -> str | None:
    """An indication whose maximum is the rule's general one (None: the rule has none)."""
    for entry in limit.indications:
        if entry.max_per_day == limit.max_per_day and indication_of(
            limit.indications, [entry.name]
        ) == (entry, []):
            return entry.name
    return None


def highest_form(limit: DoseLimit) -> str | None:
    """The formulation whose maximum is the rule's highest (None: no per-form figures)."""
    forms = sorted(limit.forms.figures.items())
    return next((f for f, m in forms if m.per_day == limit.max_per_day), None)


def over_max(findings: list[Finding]) -> list[Finding]:
    """Findings other than an advisory threshold's."""
    return [f for f in findings if not f.key.endswith("|advisory")]


@pytest.mark.parametrize(
    ("limit", "form"), FORM_CASES, ids=[f"{lim.rule.id}:{form}" for lim, form in FORM_CASES]
)
class TestMaximumDoses:
    def test_a_dose_at_the_maximum_is_quiet(self, limit: DoseLimit, form: str | None) -> None:
        ctx = base_context(limit, base_mg(limit, form), form)
        assert over_max(by_rule(run(ctx, "prescribed", T0, "o1"), limit.rule.id)) == []

    def test_a_dose_above_the_maximum_fires_with_both_numbers(
        self, limit: DoseLimit, form: str | None
    ) -> None:
        ctx = base_context(limit, base_mg(limit, form) + 5, form)
        found = over_max(by_rule(run(ctx, "prescribed", T0, "o1"), limit.rule.id))
        assert [(f.kind, f.severity, f.order_ids) for f in found] == [
            ("max_dose", limit.rule.severity, ("o1",))
        ]
        assert f"{mg(base_mg(limit, form) + 5)} mg/day" in found[0].message
        assert f"{mg(base_mg(limit, form))} mg/day maximum" in found[0].message
        if form:
            assert f"for the {form} form" in found[0].message

    def test_orders_of_the_same_drug_add_up(self, limit: DoseLimit, form: str | None) -> None:
        half = base_mg(limit, form) / 2
        ctx = with_extra(
            base_context(limit, half, form),
            {"courses": base_context(limit, half + 2, form, "o2").medications},
        )
        found = over_max(by_rule(run(ctx), limit.rule.id))
        assert len(found) == 1
        assert found[0].order_ids == ("o1", "o2")


def _only(limit: DoseLimit, adjustment: Adjustment) -> PatientContext:
    """A context where this adjustment holds and no other adjustment of the limit does."""
    part = satisfy(adjustment.when, limit.drug, set())
    ctx = with_extra(base_context(limit, 1.0), part)
    view = PlanView(ctx, Change("lab", ctx.now), PACK.index, PACK.test_names)
    others = [a for a in limit.adjustments if a is not adjustment]
    assert all(holds(a.when, view, limit.drug) is None for a in others), "witness too broad"
    return ctx


def expected(limit: DoseLimit, adjustment: Adjustment) -> float:
    base = base_mg(limit)
    if adjustment.mode == "cap":
        return min(base, adjustment.value)
    if adjustment.mode == "factor":
        return base * adjustment.value
    return adjustment.value


@pytest.mark.parametrize(
    ("limit", "adjustment"),
    ADJUSTED,
    ids=[f"{limit.rule.id}:{adj.reason}" for limit, adj in ADJUSTED],
)
class TestConditionalMaximums:
    def _with_dose(self, limit: DoseLimit, adjustment: Adjustment, daily: float) -> PatientContext:
        ctx = _only(limit, adjustment)
        dosed = replace(
            course("o1", limit.drug, daily / 2, "twice daily", route=route_of(limit)),
            formulation=highest_form(limit),
            indication=general_indication(limit),
        )
        return replace(ctx, medications=(dosed, *ctx.medications[1:]))

    def test_at_the_adjusted_maximum_it_is_quiet(
        self, limit: DoseLimit, adjustment: Adjustment
    ) -> None:
        ctx = self._with_dose(limit, adjustment, expected(limit, adjustment))
        assert by_rule(run(ctx), limit.rule.id) == []

    def test_above_the_adjusted_maximum_it_fires_and_says_why(
        self, limit: DoseLimit, adjustment: Adjustment
    ) -> None:
        ctx = self._with_dose(limit, adjustment, expected(limit, adjustment) * 1.2)
        found = by_rule(run(ctx), limit.rule.id)
        assert len(found) == 1
        assert f"{mg(expected(limit, adjustment))} mg/day maximum" in found[0].message
        assert adjustment.reason.split("(")[0].strip() in found[0].message


class TestDoseExamples:
    def test_citalopram_40_mg_at_65_exceeds_the_over_60_maximum(self) -> None:
        ctx = context(course("o1", "citalopram", 40), birth_date=born_aged(65))
        found = by_rule(run(ctx, "prescribed", T0, "o1"), "MAX-CITALOPRAM")
        assert found[0].message == (
            "Citalopram 40 mg/day exceeds the 20 mg/day maximum for patients over 60."
        )

    def test_aripiprazole_is_quartered_with_strong_2d6_and_3a4_inhibitors(self) -> None:
        ctx = context(
            course("o1", "aripiprazole", 10),
            course("o2", "fluoxetine", 20),
            course("o3", "clarithromycin", 500, "twice daily"),
        )
        found = by_rule(run(ctx), "MAX-ARIPIPRAZOLE")
        assert "7.5 mg/day maximum" in found[0].message

    def test_a_poor_metaboliser_on_a_2d6_inhibitor_is_halved_once_not_twice(self) -> None:
        ctx = context(
            course("o1", "aripiprazole", 15),
            course("o2", "paroxetine", 20),
            facts={"cyp2d6_metaboliser": "poor"},
        )
        assert by_rule(run(ctx), "MAX-ARIPIPRAZOLE") == []

    def test_lamotrigine_with_valproate_and_an_inducer_keeps_the_valproate_cap(self) -> None:
        ctx = context(
            course("o1", "lamotrigine", 150),
            course("o2", "valproate", 500),
            course("o3", "carbamazepine", 200, "twice daily"),
        )
        assert "100 mg/day maximum" in by_rule(run(ctx), "MAX-LAMOTRIGINE")[0].message

    def test_valproate_without_a_weight_is_reported_as_not_checked_and_why(self) -> None:
        ctx = context(course("o1", "valproate", 500, "twice daily"))
        found = by_rule(run(ctx, "prescribed", T0, "o1"), "MAX-VALPROATE")
        assert [(f.kind, f.severity, f.order_ids) for f in found] == [
            ("max_dose", "moderate", ("o1",))
        ]
        assert "1000 mg/day could not be checked" in found[0].message
        assert "60 mg/kg/day" in found[0].message
        assert "no body weight is recorded" in found[0].message
        assert found[0].source == PACK_LIMITS["MAX-VALPROATE"].rule.source
        assert "weight" in found[0].action

    def test_an_unreadable_weight_fact_is_no_weight(self) -> None:
        ctx = context(course("o1", "valproate", 500, "twice daily"), facts={"weight_kg": "heavy"})
        found = by_rule(run(ctx), "MAX-VALPROATE")
        assert [f.severity for f in found] == ["moderate"]
        assert "no body weight" in found[0].message

    def test_the_not_checked_alert_goes_once_a_weight_is_recorded(self) -> None:
        ctx = context(
            course("o1", "valproate", 500, "twice daily"), labs=[LabResult("weight", T0, 70.0)]
        )
        assert by_rule(run(ctx), "MAX-VALPROATE") == []

    def test_without_a_weight_an_absolute_ceiling_still_applies(self) -> None:
        limit = replace(PACK_LIMITS["MAX-VALPROATE"], ceiling_mg_per_day=3000.0)
        ctx = context(course("o1", "valproate", 2000, "twice daily"))
        found = check_dose_limits((limit,), PlanView(ctx, Change("lab", ctx.now), *INDEX))
        assert sorted(f.severity for f in found) == ["major", "moderate"]
        over = next(f for f in found if f.severity == "major")
        assert "4000 mg/day exceeds the 3000 mg/day maximum" in over.message
        unchecked = next(f for f in found if f.severity == "moderate")
        assert "absolute ceiling of 3000 mg/day was applied" in unchecked.message

    def test_an_absolute_ceiling_below_the_weight_based_maximum_wins(self) -> None:
        limit = replace(PACK_LIMITS["MAX-VALPROATE"], ceiling_mg_per_day=3000.0)
        ctx = context(course("o1", "valproate", 1750, "twice daily"), facts={"weight_kg": "100"})
        found = check_dose_limits((limit,), PlanView(ctx, Change("lab", ctx.now), *INDEX))
        assert [f.severity for f in found] == ["major"]
        assert "3000 mg/day maximum" in found[0].message

    def test_valproate_uses_the_latest_weight_measurement(self) -> None:
        ctx = context(
            course("o1", "Depakote", 1500, "twice daily"), labs=[LabResult("weight", T0, 40.0)]
        )
        assert "2400 mg/day maximum" in by_rule(run(ctx), "MAX-VALPROATE")[0].message

    def test_a_dose_in_ml_is_reported_as_unchecked_not_as_safe(self) -> None:
        ctx = context(course("o1", "sertraline", steps=[step(T0, 10, unit="mL")]))
        found = by_rule(run(ctx), "MAX-SERTRALINE")
        assert [(f.severity, f.kind) for f in found] == [("info", "max_dose")]
        assert "not checked" in found[0].message

    def test_a_non_oral_route_is_not_compared_with_oral_maxima(self) -> None:
        ctx = context(course("o1", "aripiprazole", 400, "every 4 weeks", route="intramuscular"))
        assert by_rule(run(ctx), "MAX-ARIPIPRAZOLE") == []
