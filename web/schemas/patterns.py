"""JSON Schema patterns (ECMA-262 regular expressions, anchored) for query values that are
checked against a vocabulary in code: the document states exactly what the check accepts."""

from __future__ import annotations

import re
from collections.abc import Iterable


def escape(text: str) -> str:
    """Escape only ECMA-262's syntax characters (Python's ``re.escape`` also escapes ``-``
    and spaces, which an ECMA regular expression in unicode mode refuses)."""
    return re.sub(r"([\\^$.|?*+()\[\]{}/])", r"\\\1", text)


def one_of(words: Iterable[str]) -> str:
    return "(?:" + "|".join(escape(w) for w in sorted(words, key=lambda w: (-len(w), w))) + ")"


def comma_list(words: Iterable[str]) -> str:
    """Any of ``words``, comma-separated; blanks around them and empty items are ignored
    (``a, b,`` is ``a`` and ``b``)."""
    word = one_of(words)
    return rf"^\s*(?:{word}\s*)?(?:,\s*(?:{word}\s*)?)*$"


def prefix(words: Iterable[str]) -> str:
    """Any prefix of any of ``words``, the empty one included."""
    alternatives = []
    for word in sorted(set(words)):
        nested = ""
        for char in reversed(word):
            nested = f"(?:{escape(char)}{nested})?"
        alternatives.append(nested)
    return "(?:" + "|".join(alternatives) + ")"
