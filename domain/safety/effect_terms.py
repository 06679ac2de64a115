"""Reading a side effect as it was written: "severe rash with fever", "skin rash", "SJS".

Reports are free text, so a rule lists the phrases of its effect and a phrase matches
when all its words occur in one clause of the report, in any order and case ("pain in
the chest" is chest pain). A word of four letters or more also matches words it begins
("blister" in "blistering", "rash" in "rashes"); shorter words ("fit", "ten") must match
whole. Words after a negation in the same clause ("no fever", "denies chest pain") do not
count, unless the phrase itself holds the negation ("no bowel movement", "bowels not
opened").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.safety.drugs import normalise_name

NEGATIONS = frozenset({"no", "not", "without", "denies", "denied", "nil", "negative", "never"})
_CLAUSES = re.compile(r"[,.;:!?()\n]|\bbut\b|\bhowever\b", re.IGNORECASE)
PREFIX_LENGTH = 4


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Phrase:
        return cls(tuple(normalise_name(text).split()))

    @property
    def negated(self) -> bool:
        return any(word in NEGATIONS for word in self.words)

    def __str__(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Clause:
    words: tuple[str, ...]  # every word
    affirmed: tuple[str, ...]  # the words before any negation


def clauses(text: str) -> tuple[Clause, ...]:
    found = []
    for part in _CLAUSES.split(text):
        words = tuple(normalise_name(part).split())
        if not words:
            continue
        cut = next((i for i, w in enumerate(words) if w in NEGATIONS), len(words))
        found.append(Clause(words, words[:cut]))
    return tuple(found)


def _word_in(word: str, words: tuple[str, ...]) -> bool:
    if len(word) >= PREFIX_LENGTH:
        return any(w.startswith(word) for w in words)
    return word in words


def matches(phrase: Phrase, report: tuple[Clause, ...]) -> bool:
    """Whether the phrase occurs, affirmed, in one clause of the report."""
    if not phrase.words:
        return False
    for clause in report:
        words = clause.words if phrase.negated else clause.affirmed
        if all(_word_in(word, words) for word in phrase.words):
            return True
    return False


def first_match(phrases: tuple[Phrase, ...], report: tuple[Clause, ...]) -> Phrase | None:
    return next((p for p in phrases if matches(p, report)), None)
