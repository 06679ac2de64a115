"""What a fact the rules read is: its canonical name, closed set of values (or number
range) and the wordings that mean each value; and the two shapes most facts take
(a metaboliser status, a condition present or not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.safety.drugs import normalise_name


@dataclass(frozen=True)
class FactSpec:
    """One fact the rules read: its canonical name, values and accepted wordings."""

    name: str
    description: str
    values: tuple[str, ...]
    wordings: Mapping[str, tuple[str, ...]]  # value -> other ways of saying it
    aliases: tuple[str, ...] = ()  # other names of the fact
    number: tuple[float, float, str] | None = None  # a number (low, high, unit), not a set

    def value_of(self, text: str) -> str | None:
        """The canonical value ``text`` means, or None when it is none of them."""
        if self.number is not None:
            return self._number(text)
        key = normalise_name(text)
        for value in self.values:
            said = (value, *self.wordings.get(value, ()))
            if key in {normalise_name(w) for w in said}:
                return value
        return None

    def _number(self, text: str) -> str | None:
        assert self.number is not None
        low, high, unit = self.number
        raw = text.strip().lower().removesuffix(unit).strip().replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            return None
        return f"{value:g}" if low <= value <= high else None

    def accepted(self) -> dict[str, list[str]]:
        """Each value with its accepted wordings (for the OpenAPI document)."""
        return {v: [v, *self.wordings.get(v, ())] for v in self.values}


YES = ("yes", "y", "true", "present", "1")
NO = ("no", "n", "false", "none", "absent", "0")


def metaboliser(gene: str) -> FactSpec:
    def said(*words: str) -> tuple[str, ...]:
        return tuple(f"{w} {m}" for w in words for m in ("metaboliser", "metabolizer")) + words

    return FactSpec(
        name=f"{gene}_metaboliser",
        description=f"{gene.upper()} metaboliser status (phenotype from genotyping).",
        values=("poor", "intermediate", "normal", "rapid", "ultrarapid"),
        wordings={
            "poor": (*said("poor"), "pm"),
            "intermediate": (*said("intermediate"), "im"),
            "normal": (*said("normal", "extensive"), "nm", "em"),
            "rapid": (*said("rapid"), "rm"),
            "ultrarapid": (*said("ultrarapid", "ultra rapid", "ultra-rapid"), "um"),
        },
        aliases=(
            f"{gene}_metabolizer",
            f"{gene} metaboliser status",
            f"{gene} metabolizer status",
            f"{gene} phenotype",
            gene,
        ),
    )


def presence(
    name: str,
    description: str,
    yes: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> FactSpec:
    """A condition stated as a fact: present (yes) or not (no)."""
    return FactSpec(
        name=name,
        description=description,
        values=("yes", "no"),
        wordings={"yes": (*yes, *YES[1:]), "no": NO[1:]},
        aliases=aliases,
    )
