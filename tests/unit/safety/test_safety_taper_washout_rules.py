"""Taper and MAOI-washout rules, generated from the pack data."""

from __future__ import annotations

import pytest
from safety_cases import PACK, T0, by_rule, context, course, days, members, run, step

from domain.safety.change_interactions import StopWithRule
from domain.safety.taper_text import is_taper_schedule
from domain.safety.tapering import TaperRule
from domain.safety.washout import WashoutRule

TAPERS = list(PACK.tapers)
WASHOUTS = list(PACK.washouts)
NAMED = {drug for rule in TAPERS for drug in rule.side.drugs}
NOT_SCHEDULES = ["none needed", "No taper", "n/a", "N/A", "not needed", "none", "taper",
                 "slowly", "no taper, stopped 20 mg at once",
                 "Stopped abruptly on day 1"]  # fmt: skip
SCHEDULES = ["reduce by a quarter every 2 weeks", "10 mg daily for 2 weeks, then stop",
             "50 mg -> 25 mg for 1 week, then stop", "over 4 weeks",
             "0.125 mg twice daily every 3 days", "halve the dose for 14 days"]  # fmt: skip


def taper_witness(rule: TaperRule) -> str:
    """A drug the rule is the one to apply to (a drug-specific rule wins over a class one)."""
    if rule.side.drugs:
        return sorted(rule.side.drugs)[0]
    return members(rule.side, avoid=NAMED)[0]


def stopped(rule: TaperRule, taper: str | None) -> list:
    drug = taper_witness(rule)
    ctx = context(course("o1", drug, 20, start=T0 - days(90), stopped_at=T0, taper=taper))
    return run(ctx, "discontinued", T0, "o1")


def cut(
    rule: TaperRule, before: float, after: float, gap: float = 7, previous: float | None = None
) -> list:
    drug = taper_witness(rule)
    steps = [step(T0 - days(60), before)]
    if previous is not None:
        steps = [step(T0 - days(60), previous), step(T0 - days(gap), before)]
    steps.append(step(T0, after))
    return run(context(course("o1", drug, steps=steps)), "dose_changed", T0, "o1")


@pytest.mark.parametrize("rule", TAPERS, ids=lambda r: r.rule.id)
class TestTapers:
    def test_a_stop_without_a_taper_is_flagged(self, rule: TaperRule) -> None:
        found = by_rule(stopped(rule, None), rule.rule.id)
        assert [(f.kind, f.order_ids) for f in found] == [("abrupt_stop", ("o1",))]
        drug = taper_witness(rule)
        assert found[0].severity == rule.drug_severity.get(drug, rule.rule.severity)

    def test_a_stop_with_a_taper_schedule_is_quiet(self, rule: TaperRule) -> None:
        assert by_rule(stopped(rule, "reduce by a quarter every 2 weeks"), rule.rule.id) == []

    def test_a_blank_taper_is_no_taper(self, rule: TaperRule) -> None:
        assert len(by_rule(stopped(rule, "   "), rule.rule.id)) == 1

    @pytest.mark.parametrize("text", NOT_SCHEDULES)
    def test_a_taper_that_says_none_is_no_taper(self, rule: TaperRule, text: str) -> None:
        found = by_rule(stopped(rule, text), rule.rule.id)
        assert [f.kind for f in found] == ["abrupt_stop"]
        assert "is not a schedule" in found[0].message

    def test_the_largest_allowed_single_cut_is_quiet(self, rule: TaperRule) -> None:
        if rule.max_fraction is not None:
            found = cut(rule, 100, 100 * (1 - rule.max_fraction))
        else:
            assert rule.max_step_mg is not None
            found = cut(rule, 2, 2 - rule.max_step_mg, gap=rule.min_days, previous=3)
        assert by_rule(found, rule.rule.id) == []

    def test_a_bigger_single_cut_is_flagged(self, rule: TaperRule) -> None:
        if rule.max_fraction is not None:
            found = cut(rule, 100, 100 * (1 - rule.max_fraction) - 5)
        else:
            assert rule.max_step_mg is not None
            found = cut(rule, 2, 2 - rule.max_step_mg - 0.125)
        assert [f.kind for f in by_rule(found, rule.rule.id)] == ["abrupt_stop"]

    def test_an_increase_is_not_a_cut(self, rule: TaperRule) -> None:
        assert by_rule(cut(rule, 10, 40), rule.rule.id) == []


@pytest.mark.parametrize("rule", [r for r in TAPERS if r.max_step_mg], ids=lambda r: r.rule.id)
def test_label_steps_must_be_spaced_by_the_label_interval(rule: TaperRule) -> None:
    assert rule.max_step_mg is not None
    found = cut(rule, 2, 2 - rule.max_step_mg, gap=rule.min_days - 1, previous=2 + 0.125)
    assert len(by_rule(found, rule.rule.id)) == 1


class TestTaperText:
    @pytest.mark.parametrize("text", SCHEDULES)
    def test_a_text_giving_a_step_or_a_duration_is_a_schedule(self, text: str) -> None:
        assert is_taper_schedule(text)

    @pytest.mark.parametrize("text", [*NOT_SCHEDULES, "", "   ", None, "0"])
    def test_a_negative_or_a_text_without_a_number_is_not(self, text: str | None) -> None:
        assert not is_taper_schedule(text)

    def test_stopping_a_drug_whose_stop_raises_a_co_drug_rule_with_none_needed_is_flagged(
        self,
    ) -> None:
        rule = next(r for r in PACK.interactions if isinstance(r, StopWithRule))
        stopped_drug = members(rule.stopped)[0]
        other = members(rule.other, avoid=[stopped_drug])[0]
        for taper, fired in (("none needed", 1), ("reduce by half weekly for 2 weeks", 0)):
            ctx = context(
                course("o1", stopped_drug, 20, start=T0 - days(90), stopped_at=T0, taper=taper),
                course("o2", other, 10, start=T0 - days(90)),
            )
            assert len(by_rule(run(ctx, "discontinued", T0, "o1"), rule.rule.id)) == fired


def test_fluoxetine_stopped_abruptly_is_only_minor() -> None:
    rule = next(r for r in TAPERS if "fluoxetine" in r.drug_severity)
    ctx = context(course("o1", "Prozac", 20, start=T0 - days(90), stopped_at=T0))
    found = by_rule(run(ctx, "discontinued", T0, "o1"), rule.rule.id)
    assert found[0].severity == "minor"


def test_a_drug_without_a_taper_rule_can_stop_at_once() -> None:
    ctx = context(course("o1", "olanzapine", 10, start=T0 - days(90), stopped_at=T0))
    assert [f for f in run(ctx, "discontinued", T0, "o1") if f.kind == "abrupt_stop"] == []


def washout_pair(rule: WashoutRule, stopped_drug: str | None = None) -> tuple[str, str]:
    stopped_drug = stopped_drug or members(rule.stopped, avoid=rule.days_by_drug)[0]
    started = members(rule.start, avoid=[stopped_drug])[0]
    return stopped_drug, started


def start_after(rule: WashoutRule, gap: float, stopped_drug: str | None = None) -> list:
    first, second = washout_pair(rule, stopped_drug)
    ctx = context(
        course("old", first, start=T0 - days(200), stopped_at=T0 - days(gap)),
        course("new", second, start=T0),
    )
    return by_rule(run(ctx, "prescribed", T0, "new"), rule.rule.id)


@pytest.mark.parametrize("rule", WASHOUTS, ids=lambda r: r.rule.id)
class TestWashouts:
    def test_a_start_inside_the_washout_is_blocked(self, rule: WashoutRule) -> None:
        found = start_after(rule, rule.days - 1)
        assert [(f.kind, f.severity, f.blocking, f.order_ids) for f in found] == [
            ("washout", "contraindicated", True, ("new", "old"))
        ]

    def test_a_start_after_the_washout_is_quiet(self, rule: WashoutRule) -> None:
        assert start_after(rule, rule.days) == []

    def test_drugs_with_a_longer_washout_need_it(self, rule: WashoutRule) -> None:
        for drug, needed in rule.days_by_drug.items():
            assert start_after(rule, needed - 1, drug), drug
            assert start_after(rule, needed, drug) == [], drug

    def test_only_a_new_prescription_is_checked(self, rule: WashoutRule) -> None:
        first, second = washout_pair(rule)
        ctx = context(
            course("old", first, start=T0 - days(200), stopped_at=T0 - days(1)),
            course("new", second, start=T0),
        )
        assert by_rule(run(ctx, "lab", T0 + days(1)), rule.rule.id) == []
