"""The facts vocabulary against the pack: every fact a rule reads has its allowed values,
every value a rule names is one of them (or a wording of one), and recording any
accepted wording leaves a value the rule matches, so nothing said in ordinary words
passes a rule by silently."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from safety_cases import PACK

from domain.safety.change_interactions import FactChangeRule
from domain.safety.conditions import FactIn
from domain.safety.dose_forms import INPATIENT_VALUES
from domain.safety.drugs import normalise_name
from domain.safety.fact_interactions import FactStateRule
from domain.safety.fact_vocabulary import FACTS, fact_spec, facts_read_by
from domain.safety.genotypes import tables

READ = sorted(facts_read_by(PACK))


def conditions_on(fact: str) -> list[frozenset[str]]:
    """The value sets of the pack's FactIn conditions and fact-state rules on ``fact``."""
    found: list[frozenset[str]] = []

    def walk(item: object) -> None:
        if isinstance(item, FactIn) and fact_spec(item.fact) is FACTS[fact]:
            found.append(item.values)
        elif isinstance(item, FactStateRule) and fact_spec(item.fact) is FACTS[fact]:
            found.append(frozenset(item.values))
        elif hasattr(item, "__dataclass_fields__"):
            for name in item.__dataclass_fields__:  # type: ignore[attr-defined]
                walk(getattr(item, name))
        elif isinstance(item, (tuple, list, frozenset)):
            for inner in item:
                walk(inner)

    walk((PACK.dose_limits, PACK.monitoring, PACK.titrations, PACK.interactions))
    return found


class TestThePacksFacts:
    def test_the_pack_reads_the_documented_facts(self) -> None:
        assert {"smoking", "hepatic_impairment", "cyp2c19_metaboliser"} <= set(READ)

    @pytest.mark.parametrize("gene", sorted(tables()))
    def test_every_gene_a_result_speaks_of_has_its_fact_with_the_same_values(
        self, gene: str
    ) -> None:
        # a result's phenotype takes the fact's place in the rules (domain.safety.phenotypes)
        table = tables()[gene]
        spec = fact_spec(table.fact)
        assert spec is not None, f"{gene}: no fact {table.fact}"
        assert set(table.phenotypes) <= set(spec.values)

    @pytest.mark.parametrize("fact", READ)
    def test_every_fact_a_rule_reads_has_a_vocabulary(self, fact: str) -> None:
        assert fact_spec(fact) is not None, f"{fact} is read by a rule but has no allowed values"

    @pytest.mark.parametrize("fact", READ)
    def test_every_value_a_rule_names_is_an_accepted_wording(self, fact: str) -> None:
        spec = fact_spec(fact)
        assert spec is not None
        for values in conditions_on(spec.name):
            for value in values:
                canonical = spec.value_of(value)
                assert canonical is not None, f"{fact}: the rule's {value!r} cannot be recorded"
                assert canonical.lower() in values, f"{fact}: {value!r} is stored as {canonical!r}"

    def test_inpatient_is_the_value_the_dose_rules_compare_with(self) -> None:
        assert {FACTS["care_setting"].value_of("Ward")} == INPATIENT_VALUES

    def test_a_weight_is_a_number_of_kg(self) -> None:
        spec = FACTS["weight_kg"]
        assert (spec.value_of("70 kg"), spec.value_of("82.5")) == ("70", "82.5")
        assert spec.value_of("heavy") is None
        assert spec.value_of("7000") is None

    def test_every_smoking_value_is_a_state_of_each_smoking_rule(self) -> None:
        rules = [
            r for r in PACK.interactions if isinstance(r, FactChangeRule) and r.fact == "smoking"
        ]
        assert {r.rule.id for r in rules} == {"DDI-13", "DDI-13B"}  # clozapine, olanzapine
        for rule in rules:
            for value in FACTS["smoking"].values:
                assert any(normalise_name(value) in vs for vs in rule.states.values()), value


@given(
    fact=st.sampled_from(sorted(f for f, spec in FACTS.items() if spec.values)),
    data=st.data(),
)
def test_any_accepted_wording_in_any_case_and_spacing_gives_its_value(
    fact: str, data: st.DataObject
) -> None:
    spec = FACTS[fact]
    value = data.draw(st.sampled_from(spec.values))
    wording = data.draw(st.sampled_from(spec.accepted()[value]))
    shouted = data.draw(st.sampled_from([wording, wording.upper(), f"  {wording.title()} "]))
    assert spec.value_of(shouted) == value
