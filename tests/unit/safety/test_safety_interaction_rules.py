"""Every interaction rule of the pack, generated from the data: it fires when it should
and stays quiet when it should not."""

from __future__ import annotations

import pytest
from safety_cases import PACK, T0, by_rule, context, course, days, members, route_for, run

from domain.safety.change_interactions import FactChangeRule, StopWithRule
from domain.safety.duplicates import DuplicateRule
from domain.safety.interactions import PairRule

PAIRS = [r for r in PACK.interactions if isinstance(r, PairRule)]
DUPLICATES = [r for r in PACK.interactions if isinstance(r, DuplicateRule)]
FACT_CHANGES = [r for r in PACK.interactions if isinstance(r, FactChangeRule)]
STOPS = [r for r in PACK.interactions if isinstance(r, StopWithRule)]


def _covers(rule: PairRule, a: str, b: str) -> bool:
    info_a, info_b = PACK.drugs[a], PACK.drugs[b]
    return (rule.a.covers(info_a) and rule.b.covers(info_b)) or (
        rule.b.covers(info_a) and rule.a.covers(info_b)
    )


def witnesses(rule: PairRule) -> tuple[str, str]:
    """Two drugs the rule covers, and no rule that supersedes it covers."""
    superseding = [r for r in PAIRS if r.rule.id in rule.superseded_by]
    for a in members(rule.a):
        for b in members(rule.b, avoid=[a]):
            if not any(_covers(other, a, b) for other in superseding):
                return a, b
    raise AssertionError(f"{rule.rule.id}: no witness pair")


def pair_courses(rule: PairRule, b_stopped: float | None = None) -> tuple:
    a, b = witnesses(rule)
    stop = T0 + days(b_stopped) if b_stopped is not None else None
    return (
        course("a", a, route=route_for(rule.a), start=T0 - days(30)),
        course("b", b, route=route_for(rule.b), start=T0, stopped_at=stop),
    )


@pytest.mark.parametrize("rule", PAIRS, ids=lambda r: r.rule.id)
class TestPairRules:
    def test_it_fires_when_both_drugs_are_active(self, rule: PairRule) -> None:
        found = by_rule(run(context(*pair_courses(rule)), "prescribed", T0, "b"), rule.rule.id)
        assert len(found) == 1
        assert found[0].order_ids == ("a", "b")
        assert found[0].kind == "interaction"
        assert found[0].severity == rule.rule.severity
        assert found[0].blocking is (rule.rule.severity == "contraindicated")

    def test_its_message_names_both_drugs(self, rule: PairRule) -> None:
        a, b = witnesses(rule)
        found = by_rule(run(context(*pair_courses(rule))), rule.rule.id)
        assert PACK.drugs[a].display.lower() in found[0].message.lower()
        assert PACK.drugs[b].display.lower() in found[0].message.lower()

    def test_it_is_quiet_with_only_one_of_the_drugs(self, rule: PairRule) -> None:
        first, _ = pair_courses(rule)
        assert by_rule(run(context(first)), rule.rule.id) == []

    def test_it_is_quiet_once_the_other_drug_has_stopped(self, rule: PairRule) -> None:
        ctx = context(*pair_courses(rule, b_stopped=2), now=T0 + days(5))
        assert by_rule(run(ctx, "lab", T0 + days(5)), rule.rule.id) == []

    def test_it_still_fires_while_the_other_is_stopping_later(self, rule: PairRule) -> None:
        ctx = context(*pair_courses(rule, b_stopped=10), now=T0 + days(5))
        assert len(by_rule(run(ctx, "lab", T0 + days(5)), rule.rule.id)) == 1


def test_route_restricted_rules_ignore_other_routes() -> None:
    rule = next(r for r in PAIRS if r.rule.id == "DDI-07")
    lithium, ibuprofen = pair_courses(rule)
    topical = course("b", "diclofenac", route="topical")
    assert by_rule(run(context(lithium, topical)), "DDI-07") == []
    assert len(by_rule(run(context(lithium, ibuprofen)), "DDI-07")) == 1


def test_a_general_rule_gives_way_to_the_specific_one_for_the_same_pair() -> None:
    found = run(context(course("a", "ziprasidone"), course("b", "methadone")))
    assert by_rule(found, "DDI-19")
    assert not by_rule(found, "DDI-20")


@pytest.mark.parametrize("rule", DUPLICATES, ids=lambda r: r.rule.id)
class TestDuplicateTherapy:
    def test_two_active_drugs_of_the_group_are_duplicate_therapy(self, rule: DuplicateRule) -> None:
        a, b = members(rule.group)[:2]
        found = by_rule(run(context(course("o1", a), course("o2", b))), rule.rule.id)
        assert [(f.kind, f.severity, f.order_ids) for f in found] == [
            ("duplicate_therapy", "moderate", ("o1", "o2"))
        ]

    def test_one_drug_of_the_group_is_not(self, rule: DuplicateRule) -> None:
        a, b = members(rule.group)[:2]
        ctx = context(course("o1", a), course("o2", b, stopped_at=T0 + days(1)), now=T0 + days(3))
        assert by_rule(run(ctx), rule.rule.id) == []

    def test_a_cross_taper_counts_and_says_which_drug_is_stopping(
        self, rule: DuplicateRule
    ) -> None:
        a, b = members(rule.group)[:2]
        ctx = context(course("o1", a), course("o2", b, stopped_at=T0 + days(14)))
        found = by_rule(run(ctx), rule.rule.id)
        assert len(found) == 1
        assert "cross-taper" in found[0].message
        assert (T0 + days(14)).date().isoformat() in found[0].message


@pytest.mark.parametrize("rule", FACT_CHANGES, ids=lambda r: r.rule.id)
class TestFactChanges:
    def test_a_change_between_states_fires_for_each_direction(self, rule: FactChangeRule) -> None:
        drug = members(rule.drug)[0]
        for before, values_before in rule.states.items():
            for after, values_after in rule.states.items():
                if before == after:
                    continue
                ctx = context(course("o1", drug), facts={rule.fact: sorted(values_after)[0]})
                found = by_rule(
                    run(ctx, "fact", fact=rule.fact, previous_value=sorted(values_before)[0]),
                    rule.rule.id,
                )
                assert len(found) == 1
                assert rule.effects[after] in found[0].message

    def test_a_new_value_meaning_the_same_state_is_quiet(self, rule: FactChangeRule) -> None:
        drug = members(rule.drug)[0]
        values = sorted(next(v for v in rule.states.values() if len(v) > 1))
        ctx = context(course("o1", drug), facts={rule.fact: values[0]})
        found = run(ctx, "fact", fact=rule.fact, previous_value=values[1])
        assert by_rule(found, rule.rule.id) == []

    def test_without_the_drug_the_change_is_quiet(self, rule: FactChangeRule) -> None:
        (before, *_), (after, *_), *_ = (sorted(v) for v in rule.states.values())
        ctx = context(course("o1", "sertraline"), facts={rule.fact: after})
        assert by_rule(run(ctx, "fact", fact=rule.fact, previous_value=before), rule.rule.id) == []

    def test_a_first_recorded_value_alerts_only_for_the_states_marked_so(
        self, rule: FactChangeRule
    ) -> None:
        drug = members(rule.drug)[0]
        for state, values in rule.states.items():
            ctx = context(course("o1", drug), facts={rule.fact: sorted(values)[0]})
            found = by_rule(run(ctx, "fact", fact=rule.fact, previous_value=None), rule.rule.id)
            if state in rule.first_states:
                assert len(found) == 1
                assert "no earlier status" in found[0].message
                assert rule.effects[state] in found[0].message
            else:
                assert found == []


@pytest.mark.parametrize("rule", STOPS, ids=lambda r: r.rule.id)
class TestStopWith:
    def _ctx(self, rule: StopWithRule, taper: str | None, with_other: bool = True) -> tuple:
        other = members(rule.other)[0]
        stopped = members(rule.stopped, avoid=[other])[0]
        courses = [course("s", stopped, start=T0 - days(60), stopped_at=T0, taper=taper)]
        if with_other:
            courses.append(course("o", other, start=T0 - days(30)))
        return context(*courses)

    def test_an_abrupt_stop_while_on_the_other_drug_is_blocked(self, rule: StopWithRule) -> None:
        found = by_rule(run(self._ctx(rule, None), "discontinued", T0, "s"), rule.rule.id)
        assert [(f.order_ids, f.blocking) for f in found] == [(("o", "s"), True)]

    def test_a_stop_with_a_taper_is_quiet(self, rule: StopWithRule) -> None:
        found = run(self._ctx(rule, "reduce by 25% a fortnight"), "discontinued", T0, "s")
        assert by_rule(found, rule.rule.id) == []

    def test_a_stop_without_the_other_drug_is_quiet(self, rule: StopWithRule) -> None:
        found = run(self._ctx(rule, None, with_other=False), "discontinued", T0, "s")
        assert by_rule(found, rule.rule.id) == []
