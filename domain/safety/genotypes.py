"""Diplotypes and reported phenotypes read into a phenotype, by CPIC's tables, never guessed.

A pharmacogenomic report states a diplotype ("*1/*4"), a phenotype ("Poor metabolizer")
or both. CYP2D6 is read by activity score (each allele's value summed, a duplication
``xN`` multiplying it; CPIC/DPWG 2019 consensus bands), CYP2C19 by the function of its two
alleles, HLA-B*15:02 and HLA-A*31:01 by whether the marker allele is present, POLG by the
lab's own call. The tables live in ``genotypes.json`` with their sources.

Whatever CareLog cannot read with certainty is *not interpretable*: an allele the table
does not list, a duplication whose copy number changes the phenotype, a diplotype that
is not two alleles, a phenotype wording it does not know, or a diplotype and a reported
phenotype that disagree. Such a result is kept and shown with the reason; no rule reads
a phenotype from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from domain.safety.drugs import normalise_name

NOT_INTERPRETABLE = "not interpretable"
PHENOTYPE_RANK = {"poor": 0, "intermediate": 1, "normal": 2, "rapid": 3, "ultrarapid": 4}
"""Metaboliser phenotypes from least to most enzyme activity."""

_STAR = re.compile(r"^\*?(\d{1,3})(?:\.\d{3})?(?:[x\u00d7](\d|n))?$")
_HLA = re.compile(r"^\*?(\d{2,3}):(\d{2,3})(?::\d{2,3}){0,2}[a-z]?$")
_UNKNOWN_COPIES = (2, 3, 4)  # "xN": at least two copies; read only if each count agrees


@dataclass(frozen=True)
class GeneTable:
    """One gene's translation table, as ``genotypes.json`` states it."""

    gene: str
    method: str  # activity_score | allele_function | marker | reported
    fact: str  # the clinical fact the same phenotype is recorded as
    phenotypes: tuple[str, ...]
    source: str
    evidence: str
    aliases: tuple[str, ...] = ()
    allele_values: tuple[tuple[str, float], ...] = ()
    score_bands: tuple[tuple[float, float | None, str], ...] = ()  # (from, to|None, phenotype)
    allele_functions: tuple[tuple[str, str], ...] = ()
    function_pairs: tuple[tuple[frozenset[str], str], ...] = ()
    marker: str | None = None
    exclude_wordings: tuple[str, ...] = ()
    extra_wordings: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (phenotype, wordings)
    lab_test: str | None = None  # the pack's lab test a result of this gene also is


@dataclass(frozen=True)
class Reading:
    """What a result says about a gene: a phenotype, or why it is not interpretable."""

    gene: str
    phenotype: str | None  # None: not interpretable
    basis: str  # how it was read: "diplotype *1/*4 (activity score 1)", "reported phenotype"
    problem: str | None = None  # why it is not interpretable
    activity_score: float | None = None
    source: str = ""

    @property
    def interpretable(self) -> bool:
        return self.phenotype is not None


@cache
def tables() -> dict[str, GeneTable]:
    """The genes CareLog reads, by canonical name (loaded once)."""
    text = resources.files("domain.safety").joinpath("genotypes.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    out = {}
    for gene, entry in raw["genes"].items():
        bands = tuple(
            (float(b.get("from", b.get("above", 0))), b.get("to"), b["phenotype"])
            if "above" not in b
            else (float(b["above"]), None, b["phenotype"])
            for b in entry.get("score_bands", ())
        )
        out[gene] = GeneTable(
            gene=gene,
            method=entry["method"],
            fact=entry["fact"],
            phenotypes=tuple(entry["phenotypes"]),
            source=entry["source"],
            evidence=entry["evidence"],
            aliases=tuple(entry.get("aliases", ())),
            allele_values=tuple((k, float(v)) for k, v in entry.get("allele_values", {}).items()),
            score_bands=bands,
            allele_functions=tuple(entry.get("allele_functions", {}).items()),
            function_pairs=tuple(
                (frozenset(p["alleles"]), p["phenotype"]) for p in entry.get("function_pairs", ())
            ),
            marker=entry.get("marker"),
            exclude_wordings=tuple(entry.get("exclude_wordings", ())),
            extra_wordings=tuple(
                (value, tuple(words)) for value, words in entry.get("extra_wordings", {}).items()
            ),
            lab_test=entry.get("lab_test"),
        )
    return out


@cache
def _wordings() -> dict[str, tuple[str, ...]]:
    text = resources.files("domain.safety").joinpath("genotypes.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    return {value: tuple(words) for value, words in raw["phenotype_wordings"].items()}


def canonical_gene(text: str) -> str | None:
    """The gene a typed name means ("cyp2d6", "HLA-B*15:02"), or None if CareLog has no
    table for it."""
    key = normalise_name(text)
    for table in tables().values():
        if key in {normalise_name(n) for n in (table.gene, *table.aliases)}:
            return table.gene
    return None


def reported_phenotype(gene: str, text: str) -> str | None:
    """The phenotype a lab's wording states for ``gene``, or None when it is not one of the
    gene's phenotypes in a known wording ("likely poor", "indeterminate")."""
    table = tables()[gene]
    words = normalise_name(re.sub(r"\([^)]*\)", " ", text))
    for name in sorted({normalise_name(n) for n in (table.gene, *table.aliases)}, key=len)[::-1]:
        words = words.removeprefix(name + " ") if words != name else words
    if table.marker:  # "*15:02 positive" under the gene HLA-B
        words = words.removeprefix(normalise_name(table.marker) + " ")
    extra = dict(table.extra_wordings)  # a gene's own wordings (POLG: ACMG classes)
    for value in table.phenotypes:
        said = {value, *_wordings().get(value, ()), *extra.get(value, ())}
        said -= set(table.exclude_wordings)
        if words in {normalise_name(w) for w in said}:
            return value
    return None


def _alleles(gene: str, diplotype: str) -> list[str] | None:
    """The two allele expressions of a diplotype, gene prefixes removed; None if not two."""
    text = diplotype.strip().lower().replace(" ", "").replace(gene.lower(), "")
    if gene.startswith("HLA-"):  # "HLA-B*15:02", "B*15:02"
        text = re.sub(r"(?:hla-?)?" + gene[-1].lower() + r"(?=\*)", "", text)
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts


def activity(gene: str, allele: str, copies: int = 2) -> float | None:
    """A CYP2D6 allele expression's activity value: "*1", "*2x2", "*36+*10"; None if any
    part is not in the table. ``copies`` is the count to read an "xN" as."""
    values = dict(tables()[gene].allele_values)
    total = 0.0
    for part in allele.split("+"):
        match = _STAR.match(part)
        if match is None or match.group(1) not in values:
            return None
        count = match.group(2)
        n = 1 if count is None else copies if count == "n" else int(count)
        if n < 1:
            return None
        total += values[match.group(1)] * n
    return total


def score_phenotype(gene: str, score: float) -> str | None:
    """The phenotype of an activity score by the gene's bands (None between bands)."""
    for low, high, phenotype in tables()[gene].score_bands:
        if high is None and score > low:
            return phenotype
        if high is not None and low - 1e-9 <= score <= float(high) + 1e-9:
            return phenotype
    return None


def _activity_reading(gene: str, parts: list[str]) -> tuple[str | None, float | None, str]:
    """Sum of the two alleles' values, read into a band; an "xN" is read at each plausible
    copy count and kept only if they all give the same phenotype (then its score at two)."""
    counts = _UNKNOWN_COPIES if any(re.search(r"[x\u00d7]n", p) for p in parts) else (2,)
    readings, scores = set(), []
    for copies in counts:
        values = [activity(gene, p, copies) for p in parts]
        if any(v is None for v in values):
            return None, None, "an allele is not in CareLog's CPIC table for " + gene
        scores.append(sum(v for v in values if v is not None))
        readings.add(score_phenotype(gene, scores[-1]))
    if len(readings) != 1 or None in readings:
        return None, None, "the copy number of the duplication (xN) changes the phenotype"
    return readings.pop(), scores[0], ""


def _function_reading(gene: str, parts: list[str]) -> tuple[str | None, str]:
    functions = dict(tables()[gene].allele_functions)
    found = []
    for part in parts:
        match = _STAR.match(part)
        if match is None or match.group(2) is not None or match.group(1) not in functions:
            return None, "an allele is not in CareLog's CPIC table for " + gene
        found.append(functions[match.group(1)])
    pair = frozenset(found)
    for alleles, phenotype in tables()[gene].function_pairs:
        if alleles == pair:
            return phenotype, ""
    return None, "CPIC gives no phenotype for this combination of allele functions"


def _marker_reading(gene: str, parts: list[str]) -> tuple[str | None, str]:
    marker = tables()[gene].marker
    fields = []
    for part in parts:
        match = _HLA.match(part)
        if match is None:
            return None, f"{part!r} is not an {gene} allele like *15:02"
        fields.append(f"{match.group(1)}:{match.group(2)}")
    return ("positive" if marker in fields else "negative"), ""


def diplotype_phenotype(gene: str, diplotype: str) -> tuple[str | None, float | None, str]:
    """(phenotype, activity score, problem) for a diplotype of a gene CareLog reads."""
    table = tables()[gene]
    parts = _alleles(gene, diplotype)
    if table.method == "reported":
        return None, None, f"CareLog has no diplotype table for {gene}: the lab's phenotype is read"
    if parts is None:
        return None, None, "the diplotype is not two alleles separated by '/'"
    if table.method == "activity_score":
        return _activity_reading(gene, parts)
    if table.method == "allele_function":
        phenotype, problem = _function_reading(gene, parts)
        return phenotype, None, problem
    phenotype, problem = _marker_reading(gene, parts)
    return phenotype, None, problem


def interpret(gene: str, diplotype: str | None, phenotype: str | None) -> Reading:
    """What a result says, or why it is not interpretable (see the module docstring)."""
    canonical = canonical_gene(gene)
    if canonical is None:
        return Reading(gene, None, "", f"CareLog has no table for the gene {gene!r}")
    table = tables()[canonical]
    if not diplotype and not phenotype:
        return Reading(canonical, None, "", "neither a diplotype nor a phenotype was reported")
    stated = reported_phenotype(canonical, phenotype) if phenotype else None
    if phenotype and stated is None:
        problem = f"the reported phenotype {phenotype!r} is not one CareLog reads for {canonical}"
        return Reading(canonical, None, "", problem, source=table.source)
    if not diplotype or table.method == "reported":
        if stated is None:
            problem = f"{canonical} is read from the lab's phenotype, and none was reported"
            return Reading(canonical, None, "", problem, source=table.source)
        return Reading(canonical, stated, "reported phenotype", source=table.source)
    derived, score, problem = diplotype_phenotype(canonical, diplotype)
    if derived is None:
        return Reading(canonical, None, "", f"diplotype {diplotype}: {problem}", None, table.source)
    shown = f" (activity score {score:g})" if score is not None else ""
    if stated is not None and stated != derived:
        problem = (
            f"the diplotype {diplotype} reads as {derived}{shown} by CPIC, but the lab "
            f"reported {stated}: ask the lab"
        )
        return Reading(canonical, None, "", problem, score, table.source)
    basis = f"diplotype {diplotype}{shown}" + (", as reported" if stated else "")
    return Reading(canonical, derived, basis, None, score, table.source)
