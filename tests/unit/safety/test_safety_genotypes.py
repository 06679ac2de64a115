"""Diplotype -> phenotype by CPIC's tables: CYP2D6 activity scores, CYP2C19 allele
function, the HLA markers; and the properties any reading must have: a diplotype reads the
same either way round, more activity never gives a slower phenotype, and an allele the
table does not list never produces a phenotype."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.safety.genotypes import (
    PHENOTYPE_RANK,
    _wordings,
    diplotype_phenotype,
    interpret,
    reported_phenotype,
    score_phenotype,
    tables,
)

CYP2D6 = dict(tables()["CYP2D6"].allele_values)
CYP2C19 = dict(tables()["CYP2C19"].allele_functions)
KNOWN_2D6 = sorted(CYP2D6, key=int)
KNOWN_2C19 = sorted(CYP2C19, key=int)
UNKNOWN = (
    st.integers(min_value=1, max_value=999)
    .map(str)
    .filter(lambda a: a not in CYP2D6 and a not in CYP2C19)
)


def star(allele: str, copies: int | None = None) -> str:
    return f"*{allele}" + (f"x{copies}" if copies else "")


class TestCyp2d6ActivityScore:
    @pytest.mark.parametrize(
        ("diplotype", "score", "phenotype"),
        [
            ("*1/*1", 2, "normal"),
            ("*1/*2", 2, "normal"),
            ("*1/*41", 1.5, "normal"),
            ("*1/*10", 1.25, "normal"),
            ("*1/*4", 1, "intermediate"),
            ("*41/*41", 1, "intermediate"),
            ("*4/*10", 0.25, "intermediate"),
            ("*10/*10", 0.5, "intermediate"),
            ("*4/*4", 0, "poor"),
            ("*4/*5", 0, "poor"),
            ("*1x2/*1", 3, "ultrarapid"),
            ("*1x2/*4", 2, "normal"),
            ("*2x2/*41", 2.5, "ultrarapid"),
            ("*36+*10/*4", 0.25, "intermediate"),
            ("CYP2D6*1/*4.001", 1, "intermediate"),
        ],
    )
    def test_cpic_consensus_bands(self, diplotype: str, score: float, phenotype: str) -> None:
        assert diplotype_phenotype("CYP2D6", diplotype) == (phenotype, score, "")

    @pytest.mark.parametrize(
        ("score", "phenotype"),
        [(0, "poor"), (0.25, "intermediate"), (1, "intermediate"), (1.25, "normal"),
         (2.25, "normal"), (2.5, "ultrarapid"), (3, "ultrarapid")],
    )  # fmt: skip
    def test_band_edges(self, score: float, phenotype: str) -> None:
        assert score_phenotype("CYP2D6", score) == phenotype


class TestCyp2c19AlleleFunction:
    @pytest.mark.parametrize(
        ("diplotype", "phenotype"),
        [
            ("*1/*1", "normal"),
            ("*1/*17", "rapid"),
            ("*17/*17", "ultrarapid"),
            ("*1/*2", "intermediate"),
            ("*2/*17", "intermediate"),
            ("*2/*2", "poor"),
            ("*2/*3", "poor"),
        ],
    )
    def test_cpic_table(self, diplotype: str, phenotype: str) -> None:
        assert interpret("CYP2C19", diplotype, None).phenotype == phenotype

    def test_a_duplication_is_not_read_for_cyp2c19(self) -> None:
        assert interpret("CYP2C19", "*1x2/*1", None).phenotype is None


class TestHlaAndReportedPhenotypes:
    @pytest.mark.parametrize(
        ("gene", "diplotype", "phenotype"),
        [
            ("HLA-B", "*15:02/*40:01", "positive"),
            ("HLA-B", "HLA-B*15:02:01/HLA-B*15:02", "positive"),
            ("HLA-B", "B*07:02/B*40:01", "negative"),
            ("HLA-B*15:02", "*15:01/*40:01", "negative"),
            ("HLA-A", "*31:01/*02:01", "positive"),
            ("HLA-A", "*02:01/*24:02", "negative"),
        ],
    )
    def test_the_marker_allele_makes_it_positive(
        self, gene: str, diplotype: str, phenotype: str
    ) -> None:
        assert interpret(gene, diplotype, None).phenotype == phenotype

    @pytest.mark.parametrize(
        ("gene", "said", "value"),
        [
            ("CYP2D6", "Poor metabolizer", "poor"),
            ("CYP2D6", "CYP2D6 Ultrarapid Metaboliser (UM)", "ultrarapid"),
            ("CYP2C19", "RM", "rapid"),
            ("CYP2D6", "rapid metabolizer", None),  # no CYP2D6 rapid phenotype in CPIC
            ("CYP2D6", "likely poor metabolizer", None),
            ("CYP2D6", "indeterminate", None),
            ("HLA-B", "detected", "positive"),
            ("HLA-B", "*15:02 positive", "positive"),
            ("HLA-B", "HLA-B*15:02 not detected", "negative"),
            ("HLA-A", "HLA-A*31:01 Positive", "positive"),
            ("POLG", "carrier", None),  # a carrier is not a POLG disorder
            ("POLG", "pathogenic variant detected", "positive"),
            ("POLG", "Pathogenic", "positive"),
            ("POLG", "likely pathogenic variant", "positive"),
            ("POLG", "pathogenic variant identified", "positive"),
            ("POLG", "variant of uncertain significance", None),  # a VUS is never positive
            ("POLG", "VUS", None),
            ("POLG", "no pathogenic variant detected", "negative"),
            ("POLG", "benign", "negative"),
            ("POLG", "negative", "negative"),
            ("HLA-B", "present", "positive"),
            ("HLA-B", "carrier", "positive"),
            ("HLA-B", "absent", "negative"),
            ("HLA-B", "pathogenic", None),  # ACMG classes are POLG's wording, not an HLA call
        ],
    )
    def test_wordings(self, gene: str, said: str, value: str | None) -> None:
        assert reported_phenotype(gene, said) == value


@given(st.sampled_from(KNOWN_2D6), st.sampled_from(KNOWN_2D6))
def test_a_cyp2d6_diplotype_reads_the_same_either_way_round(a: str, b: str) -> None:
    one, other = interpret("CYP2D6", f"*{a}/*{b}", None), interpret("CYP2D6", f"*{b}/*{a}", None)
    assert (one.phenotype, one.activity_score) == (other.phenotype, other.activity_score)
    assert one.phenotype is not None


@given(st.sampled_from(KNOWN_2C19), st.sampled_from(KNOWN_2C19))
def test_a_cyp2c19_diplotype_reads_the_same_either_way_round(a: str, b: str) -> None:
    first = interpret("CYP2C19", f"*{a}/*{b}", None).phenotype
    assert first == interpret("CYP2C19", f"*{b}/*{a}", None).phenotype
    assert first is not None  # every pair of listed alleles has a CPIC phenotype


@given(
    st.sampled_from(KNOWN_2D6),
    st.sampled_from(KNOWN_2D6),
    st.sampled_from(KNOWN_2D6),
    st.integers(min_value=1, max_value=3),
)
def test_more_cyp2d6_activity_never_gives_a_slower_phenotype(
    a: str, b: str, c: str, copies: int
) -> None:
    """Replacing an allele by one of higher activity (or adding copies of it) never moves
    the phenotype towards poor, and the score rises with it."""
    low, high = sorted((b, c), key=lambda x: CYP2D6[x])
    before, score_before, _ = diplotype_phenotype("CYP2D6", f"*{a}/*{low}")
    after, score_after, _ = diplotype_phenotype(
        "CYP2D6", f"*{a}/" + star(high, copies if copies > 1 else None)
    )
    assert before is not None
    assert after is not None
    assert score_before is not None
    assert score_after is not None
    assert score_after >= score_before
    assert PHENOTYPE_RANK[after] >= PHENOTYPE_RANK[before]


@given(
    st.sampled_from(["CYP2D6", "CYP2C19"]),
    st.sampled_from(KNOWN_2D6 + KNOWN_2C19),
    UNKNOWN,
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(["poor", "normal metabolizer", "IM"])),
)
def test_an_unknown_allele_never_produces_a_phenotype(
    gene: str, known: str, unknown: str, first: bool, said: str | None
) -> None:
    diplotype = f"*{unknown}/*{known}" if first else f"*{known}/*{unknown}"
    reading = interpret(gene, diplotype, said)
    assert reading.phenotype is None
    assert reading.problem


@given(st.text(max_size=30))
def test_any_text_as_a_diplotype_is_read_or_refused_never_raises(text: str) -> None:
    for gene in tables():
        reading = interpret(gene, text, None)
        assert (reading.phenotype is None) == (reading.problem is not None)


FUNCTION_RANK = {"no_function": 0, "normal": 1, "increased": 2}


@given(st.sampled_from(KNOWN_2C19), st.sampled_from(KNOWN_2C19), st.sampled_from(KNOWN_2C19))
def test_a_cyp2c19_allele_of_more_function_never_gives_a_slower_phenotype(
    a: str, b: str, c: str
) -> None:
    low, high = sorted((b, c), key=lambda x: FUNCTION_RANK[CYP2C19[x]])
    before = interpret("CYP2C19", f"*{a}/*{low}", None).phenotype
    after = interpret("CYP2C19", f"*{a}/*{high}", None).phenotype
    assert before is not None
    assert after is not None
    assert PHENOTYPE_RANK[after] >= PHENOTYPE_RANK[before]


GENES_READ_AS_POSITIVE = ("POLG", "HLA-B", "HLA-A", "HLA-B*15:02")
NEGATIONS = ("no", "not", "non", "absent", "negative", "benign", "uncertain", "without")


@given(
    st.sampled_from(GENES_READ_AS_POSITIVE),
    st.sampled_from(("no", "not", "non")),
    st.sampled_from(
        (
            "pathogenic variant detected",
            "detected",
            "pathogenic",
            "likely pathogenic variant",
            "positive",
            "present",
            "carrier",
            "variant identified",
        )
    ),
    st.sampled_from(("", " ", "-")),
)
def test_a_negated_wording_never_reads_as_positive(
    gene: str, negation: str, wording: str, joint: str
) -> None:
    said = f"{negation}{joint or ' '}{wording}"
    assert reported_phenotype(gene.split("*")[0], said) != "positive"


@given(st.sampled_from(GENES_READ_AS_POSITIVE), st.data())
def test_no_wording_with_a_negation_is_listed_as_positive(gene: str, data: st.DataObject) -> None:
    table = tables()[gene.split("*")[0]]
    positives = [
        w
        for w in (
            *dict(table.extra_wordings).get("positive", ()),
            *_wordings()["positive"],
        )
        if w not in table.exclude_wordings
    ]
    wording = data.draw(st.sampled_from(positives))
    assert not set(wording.lower().replace("-", " ").split()) & set(NEGATIONS)
    assert reported_phenotype(table.gene, wording) == "positive"
