"""The pharmacogenomic rules on the pure engine: which phenotype a gene has (a result,
else the fact; conflicting results: none), phenoconversion by another drug only, the
phenotype-dependent maxima, and the pack refusing a rule on a gene it cannot read."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from importlib import resources

import pytest
from safety_cases import T0, by_rule, context, course, run

from domain.safety.context import PatientContext, PharmacogenomicResult
from domain.safety.pack import RulePackError, parse_pack


def result(gene: str, diplotype: str | None, phenotype: str | None = None, rid: str = "r1",
           on: date = date(2025, 1, 5)) -> PharmacogenomicResult:  # fmt: skip
    return PharmacogenomicResult(rid, gene, diplotype, phenotype, "GeneLab", on, T0)


def with_results(ctx: PatientContext, *results: PharmacogenomicResult) -> PatientContext:
    return replace(ctx, pharmacogenomics=results)


class TestPhenotypeSource:
    def test_a_result_overrides_the_fact(self) -> None:
        ctx = context(course("o1", "pimozide", 2), facts={"cyp2d6_metaboliser": "poor"})
        assert by_rule(run(ctx), "PGX-CYP2D6-PM-PIMOZIDE")
        normal = with_results(ctx, result("CYP2D6", "*1/*1"))
        assert by_rule(run(normal), "PGX-CYP2D6-PM-PIMOZIDE") == []

    def test_an_unreadable_result_leaves_the_fact_read_and_says_so(self) -> None:
        ctx = with_results(
            context(course("o1", "pimozide", 2), facts={"cyp2d6_metaboliser": "poor"}),
            result("CYP2D6", "*1/*99"),
        )
        findings = run(ctx)
        assert by_rule(findings, "PGX-CYP2D6-PM-PIMOZIDE")
        [unread] = by_rule(findings, "PGX-NOT-INTERPRETABLE")
        assert "Until then the rules read the clinical fact" in unread.message

    def test_disagreeing_results_are_read_by_no_rule(self) -> None:
        ctx = with_results(
            context(course("o1", "pimozide", 2)),
            result("CYP2D6", "*4/*4"),
            result("CYP2D6", "*1/*1", rid="r2", on=date(2025, 2, 1)),
        )
        findings = run(ctx)
        assert by_rule(findings, "PGX-CYP2D6-PM-PIMOZIDE") == []
        [conflict] = by_rule(findings, "PGX-NOT-INTERPRETABLE")
        assert "disagree" in conflict.message

    def test_the_polg_result_rule_leaves_the_fact_to_the_condition_rule(self) -> None:
        ctx = context(course("o1", "valproate", 500), facts={"polg_mutation": "positive"})
        findings = run(ctx)
        assert by_rule(findings, "PGX-POLG-VALPROATE") == []
        assert by_rule(findings, "COND-VALPROATE-METABOLIC")


class TestPhenoconversion:
    def test_another_strong_inhibitor_converts_a_normal_metaboliser(self) -> None:
        ctx = with_results(
            context(course("o1", "atomoxetine", 40), course("o2", "terbinafine", 250)),
            result("CYP2D6", "*1/*1"),
        )
        [found] = by_rule(run(ctx), "PGX-CYP2D6-PM-ATOMOXETINE")
        assert found.order_ids == ("o1", "o2")
        assert "terbinafine" in found.message

    def test_a_drug_does_not_phenoconvert_itself(self) -> None:
        ctx = with_results(context(course("o1", "paroxetine", 20)), result("CYP2D6", "*1/*1"))
        assert by_rule(run(ctx), "PGX-CYP2D6-PM-PAROXETINE-FLUVOXAMINE") == []

    def test_an_ultrarapid_metaboliser_is_not_made_poor(self) -> None:
        ctx = with_results(
            context(course("o1", "atomoxetine", 40), course("o2", "fluoxetine", 20)),
            result("CYP2D6", "*1x2/*1"),
        )
        assert by_rule(run(ctx), "PGX-CYP2D6-PM-ATOMOXETINE") == []

    def test_a_stopped_inhibitor_no_longer_converts(self) -> None:
        stopped = course("o2", "fluoxetine", 20, stopped_at=T0)
        ctx = with_results(
            context(course("o1", "atomoxetine", 40), stopped), result("CYP2D6", "*1/*1")
        )
        assert by_rule(run(ctx), "PGX-CYP2D6-PM-ATOMOXETINE") == []


class TestPhenotypeDependentMaxima:
    @pytest.mark.parametrize(
        ("drug", "within", "over"),
        [("pimozide", 4, 5), ("brexpiprazole", 2, 3), ("iloperidone", 12, 16)],
    )
    def test_the_maximum_for_a_poor_metaboliser(
        self, drug: str, within: float, over: float
    ) -> None:
        def maxed(amount: float) -> list[str]:
            ctx = with_results(context(course("o1", drug, amount)), result("CYP2D6", "*4/*4"))
            return [f.message for f in run(ctx) if f.key.endswith("|max")]

        assert maxed(within) == []
        [message] = maxed(over)
        assert f"above {within:g} mg/day" in message

    def test_a_dose_not_in_mg_is_reported_unchecked(self) -> None:
        ctx = with_results(
            context(course("o1", "pimozide", 2, "as directed")), result("CYP2D6", "*4/*4")
        )
        assert any("not checked" in f.message for f in by_rule(run(ctx), "PGX-CYP2D6-PM-PIMOZIDE"))


class TestTricyclicsInAnIntermediateMetaboliser:
    @pytest.mark.parametrize("diplotype", ["*1/*4", "*41/*41", "*4/*41", "*1/*5"])
    def test_an_intermediate_diplotype_holds_for_nortriptyline(self, diplotype: str) -> None:
        ctx = with_results(context(course("o1", "nortriptyline", 50)), result("CYP2D6", diplotype))
        [found] = by_rule(run(ctx), "PGX-CYP2D6-IM-TCA")
        assert found.severity == "moderate"
        assert by_rule(run(ctx), "PGX-CYP2D6-PM-TCA") == []

    def test_amoxapine_is_not_one_of_cpics_tricyclics(self) -> None:
        ctx = with_results(context(course("o1", "amoxapine", 50)), result("CYP2D6", "*1/*4"))
        assert by_rule(run(ctx), "PGX-CYP2D6-IM-TCA") == []

    def test_a_strong_inhibitor_adds_the_poor_metaboliser_finding(self) -> None:
        ctx = with_results(
            context(course("o1", "nortriptyline", 50), course("o2", "paroxetine", 20)),
            result("CYP2D6", "*1/*4"),
        )
        findings = run(ctx)
        [poor] = by_rule(findings, "PGX-CYP2D6-PM-TCA")
        assert poor.order_ids == ("o1", "o2")
        assert by_rule(findings, "PGX-CYP2D6-IM-TCA")


class TestGenotypeBeforeAHigherPimozideDose:
    def untested(self, ctx: PatientContext) -> list[str]:
        return [f.message for f in by_rule(run(ctx), "PGX-CYP2D6-GENOTYPE-PIMOZIDE")]

    @pytest.mark.parametrize(
        ("amount", "flagged"), [(2, False), (4, False), (4.5, True), (10, True)]
    )
    def test_only_above_4_mg_a_day_without_a_result(self, amount: float, flagged: bool) -> None:
        assert bool(self.untested(context(course("o1", "pimozide", amount)))) is flagged

    def test_twice_daily_doses_count_per_day(self) -> None:
        [message] = self.untested(context(course("o1", "pimozide", 3, "twice daily")))
        assert "6 mg/day is above 4 mg/day" in message

    def test_a_readable_result_or_fact_ends_it(self) -> None:
        ctx = context(course("o1", "pimozide", 6))
        assert self.untested(with_results(ctx, result("CYP2D6", "*1/*1"))) == []
        assert self.untested(replace(ctx, facts={"cyp2d6_metaboliser": "normal"})) == []

    def test_an_unreadable_result_keeps_it_and_says_why(self) -> None:
        ctx = with_results(context(course("o1", "pimozide", 6)), result("CYP2D6", "*1/*99"))
        [message] = self.untested(ctx)
        assert "could not be read" in message

    def test_a_negative_threshold_is_refused_by_the_pack(self) -> None:
        text = resources.files("domain.safety").joinpath("rulepack.json").read_text("utf-8")
        raw = json.loads(text)
        [rule] = [r for r in raw["pharmacogenomic_rules"] if r.get("type") == "genotype_required"]
        rule["above_mg_per_day"] = -1
        with pytest.raises(RulePackError, match="above_mg_per_day"):
            parse_pack(raw)


class TestThePackSection:
    def raw(self) -> dict[str, object]:
        text = resources.files("domain.safety").joinpath("rulepack.json").read_text("utf-8")
        return copy.deepcopy(json.loads(text))

    def test_a_rule_on_a_gene_carelog_cannot_read_is_refused(self) -> None:
        raw = self.raw()
        raw["pharmacogenomic_rules"][0]["gene"] = "CYP2C9"  # type: ignore[index]
        with pytest.raises(RulePackError, match="not a gene"):
            parse_pack(raw)

    def test_a_phenotype_the_gene_does_not_have_is_refused(self) -> None:
        raw = self.raw()
        raw["pharmacogenomic_rules"][0]["phenotypes"] = ["slow"]  # type: ignore[index]
        with pytest.raises(RulePackError, match="phenotypes"):
            parse_pack(raw)

    def test_every_rule_names_a_source_and_evidence(self) -> None:
        for rule in self.raw()["pharmacogenomic_rules"]:  # type: ignore[union-attr]
            assert rule["source"]
            assert rule["evidence"] in ("V", "K")
