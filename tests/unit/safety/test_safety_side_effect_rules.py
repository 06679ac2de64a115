"""Side-effect rules: a report read against the suspect drug, generated from the pack data
and spelt out for the situations of issue 18."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from safety_cases import PACK, T0, by_rule, context, course, days, members

from domain.safety import Change, Finding, MedicationCourse, SideEffect, evaluate
from domain.safety.effect_terms import Phrase, clauses, matches
from domain.safety.side_effects import SideEffectRule

RULES = list(PACK.side_effects)


def report(
    effect: str, *meds: MedicationCourse, at: float = 7, severity: str = "moderate",
    order_id: str | None = None,
) -> list[Finding]:  # fmt: skip
    when = T0 + days(at)
    reported = SideEffect("se-1", effect, severity, when, order_id)
    ctx = replace(context(*meds, now=when), side_effects=(reported,))
    found = evaluate(ctx, Change("side_effect", when, order_id))
    return [f for f in found if f.kind in ("side_effect", "suicide_risk")]


def phrase_text(rule: SideEffectRule) -> str:
    """An effect phrase of the rule that does not also escalate it."""
    return next(
        str(p) for p in rule.effects if not any(matches(e, clauses(str(p))) for e in rule.escalate)
    )


def outside(rule: SideEffectRule) -> str:
    """A drug of the pack the rule does not cover."""
    candidates = ("amoxicillin", "omeprazole", "ibuprofen")
    return next(d for d in candidates if not rule.drugs.covers(PACK.drug(d)))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule.id)
class TestEveryRule:
    def test_one_of_its_phrases_on_a_covered_drug_fires_with_the_rule_severity(
        self, rule: SideEffectRule
    ) -> None:
        drug = members(rule.drugs)[0]
        found = by_rule(report(phrase_text(rule), course("o1", drug)), rule.rule.id)
        assert [(f.severity, f.action, f.order_ids) for f in found] == [
            (rule.rule.severity, rule.rule.action, ("o1",))
        ]
        assert not found[0].blocking

    def test_on_a_drug_it_does_not_cover_it_is_silent(self, rule: SideEffectRule) -> None:
        assert by_rule(report(phrase_text(rule), course("o1", outside(rule))), rule.rule.id) == []

    def test_a_severe_report_raises_the_severity_where_the_rule_says(
        self, rule: SideEffectRule
    ) -> None:
        drug = members(rule.drugs)[0]
        found = by_rule(
            report(phrase_text(rule), course("o1", drug), severity="severe"), rule.rule.id
        )
        assert found[0].severity == (rule.if_severe or rule.rule.severity)

    def test_an_escalating_phrase_raises_the_severity(self, rule: SideEffectRule) -> None:
        if not rule.escalate:
            pytest.skip("the rule does not escalate")
        drug = members(rule.drugs)[0]
        text = f"{phrase_text(rule)}, {rule.escalate[0]}"
        found = by_rule(report(text, course("o1", drug)), rule.rule.id)
        assert found[0].severity == rule.escalate_severity

    def test_outside_its_window_it_is_silent(self, rule: SideEffectRule) -> None:
        if rule.within_days is None:
            pytest.skip("the rule has no window")
        drug = members(rule.drugs)[0]
        late = rule.within_days + 1
        assert by_rule(report(phrase_text(rule), course("o1", drug), at=late), rule.rule.id) == []


class TestWording:
    @pytest.mark.parametrize(
        "text",
        ["Severe rash with fever", "skin rash", "blistering on the arms", "SJS",
         "RASH", "rashes on trunk", "Stevens-Johnson syndrome suspected", "hives"],
    )  # fmt: skip
    def test_rash_in_any_wording_on_lamotrigine_fires(self, text: str) -> None:
        found = by_rule(report(text, course("o1", "lamotrigine", 25)), "SE-LAMOTRIGINE-RASH")
        assert len(found) == 1

    @pytest.mark.parametrize("text", ["headache", "ten days of nausea", "no rash"])
    def test_words_that_are_not_a_rash_do_not_fire(self, text: str) -> None:
        assert by_rule(report(text, course("o1", "lamotrigine", 25)), "SE-LAMOTRIGINE-RASH") == []

    @pytest.mark.parametrize(
        "text", ["Bowels not opened for 3 days", "no bowel movement since Friday", "CONSTIPATION"]
    )
    def test_constipation_in_any_wording_on_clozapine_fires(self, text: str) -> None:
        found = report(text, course("o1", "clozapine", 100))
        assert by_rule(found, "SE-CLOZAPINE-CONSTIPATION")

    def test_a_negated_word_does_not_count_but_a_negative_phrase_does(self) -> None:
        assert not matches(Phrase.of("fever"), clauses("rigid, no fever"))
        assert matches(Phrase.of("no bowel movement"), clauses("No bowel movement for 5 days"))
        assert matches(Phrase.of("chest pain"), clauses("pain in the chest since Monday"))


PHRASES = [(rule, phrase) for rule in RULES for phrase in rule.effects]


class TestWordingProperties:
    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(PHRASES),
        st.sampled_from([str.upper, str.lower, str.title, str.capitalize]),
        st.sampled_from(["", "Patient reports ", "since Monday: ", "severe "]),
        st.sampled_from(["", " for 3 days", ", getting worse", "!"]),
    )
    def test_case_and_surrounding_words_do_not_change_a_match(
        self, rule_phrase: tuple[SideEffectRule, Phrase], case: Any, before: str, after: str
    ) -> None:
        _, phrase = rule_phrase
        assert matches(phrase, clauses(before + case(str(phrase)) + after))

    @settings(max_examples=100, deadline=None)
    @given(st.sampled_from(PHRASES))
    def test_a_phrase_after_a_negation_does_not_match(
        self, rule_phrase: tuple[SideEffectRule, Phrase]
    ) -> None:
        _, phrase = rule_phrase
        if phrase.negated:
            return
        assert not matches(phrase, clauses(f"denies {phrase}"))


class TestSituations:
    def test_a_severe_rash_with_fever_on_lamotrigine_is_urgent_stop(self) -> None:
        [found] = report("Severe rash with fever", course("o1", "lamotrigine", 25))
        assert found.severity == "urgent"
        assert "Stop lamotrigine" in found.action

    def test_a_mild_rash_on_lamotrigine_is_still_major(self) -> None:
        [found] = report("itchy rash", course("o1", "lamotrigine", 25), severity="mild")
        assert found.severity == "major"

    def test_constipation_on_clozapine_warns_of_ileus(self) -> None:
        found = by_rule(
            report("constipated for 4 days", course("o1", "clozapine", 100)),
            "SE-CLOZAPINE-CONSTIPATION",
        )
        assert found[0].severity == "major"
        assert "ileus" in found[0].message

    def test_fever_with_rigidity_on_haloperidol_is_urgent_nms(self) -> None:
        found = by_rule(
            report("high fever and muscle rigidity", course("o1", "haloperidol", 5)),
            "SE-ANTIPSYCHOTIC-NMS",
        )
        assert found[0].severity == "urgent"

    def test_fever_alone_on_haloperidol_is_not_nms(self) -> None:
        found = report("fever", course("o1", "haloperidol", 5))
        assert by_rule(found, "SE-ANTIPSYCHOTIC-NMS") == []

    def test_chest_pain_three_weeks_after_clozapine_start_is_urgent_myocarditis(self) -> None:
        found = by_rule(
            report("chest pain", course("o1", "clozapine", 100), at=21), "SE-CLOZAPINE-MYOCARDITIS"
        )
        assert found[0].severity == "urgent"
        assert "troponin" in found[0].action
        assert "21 days after clozapine started" in found[0].message

    def test_chest_pain_after_a_year_on_clozapine_is_not_read_as_myocarditis(self) -> None:
        found = report("chest pain", course("o1", "clozapine", 100), at=365)
        assert by_rule(found, "SE-CLOZAPINE-MYOCARDITIS") == []

    def test_priapism_on_trazodone_is_an_emergency(self) -> None:
        [found] = report("priapism", course("o1", "trazodone", 50))
        assert found.severity == "urgent"
        assert "Emergency" in found.action

    def test_the_named_order_is_the_suspect(self) -> None:
        meds = (course("o1", "lamotrigine", 25), course("o2", "sertraline", 50))
        assert report("rash", *meds, order_id="o2") == []
        [found] = report("rash", *meds, order_id="o1")
        assert found.order_ids == ("o1",)

    def test_without_an_order_every_active_drug_that_matches_is_a_suspect(self) -> None:
        meds = (course("o1", "lamotrigine", 25), course("o2", "carbamazepine", 200))
        found = report("rash", *meds)
        assert sorted(f.rule_id for f in found) == ["SE-CARBAMAZEPINE-RASH", "SE-LAMOTRIGINE-RASH"]

    def test_a_stopped_drug_is_not_a_suspect(self) -> None:
        stopped = course("o1", "lamotrigine", 25, stopped_at=T0 + days(3))
        assert report("rash", stopped) == []

    def test_serotonin_syndrome_signs_need_more_than_one_sign(self) -> None:
        assert report("agitation", course("o1", "sertraline", 50)) == []
        found = report("agitated, tremor and diarrhoea", course("o1", "sertraline", 50))
        assert by_rule(found, "SE-SEROTONIN-SYNDROME")

    def test_suicidal_thoughts_reported_as_a_side_effect_are_a_suicide_risk_alert(self) -> None:
        [found] = report("suicidal thoughts since the dose went up", course("o1", "sertraline"))
        assert (found.kind, found.severity) == ("suicide_risk", "urgent")
        assert "safety plan" in found.action

    def test_a_side_effect_report_is_read_only_when_it_is_written(self) -> None:
        when = T0 + days(7)
        reported = SideEffect("se-1", "rash", "moderate", when)
        ctx = replace(context(course("o1", "lamotrigine", 25), now=when), side_effects=(reported,))
        later = [f for f in evaluate(ctx, Change("lab", when + days(1))) if f.kind == "side_effect"]
        assert later == []
