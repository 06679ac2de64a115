"""PHQ-9 and GAD-7 scoring: item checks, totals, severity bands and LOINC codes.

Bands: PHQ-9 after Kroenke, Spitzer & Williams 2001; GAD-7 after Spitzer et al. 2006
(see CLINICAL_REFERENCE.md). LOINC codes travel with the score so exports need no lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInputError

ANSWER_CODES = ("LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9")
"""LOINC answer list LL358-3: Not at all, Several days, More than half the days,
Nearly every day."""
ANSWER_TEXTS = ("Not at all", "Several days", "More than half the days", "Nearly every day")


@dataclass(frozen=True)
class Instrument:
    """A scored questionnaire: its items' LOINC codes and its severity bands."""

    name: str
    panel_loinc: str
    total_loinc: str
    item_loincs: tuple[str, ...]
    item_texts: tuple[str, ...]
    bands: tuple[tuple[int, int, str], ...]

    @property
    def item_count(self) -> int:
        return len(self.item_loincs)

    @property
    def max_total(self) -> int:
        return 3 * self.item_count

    def band(self, total: int) -> str:
        for low, high, label in self.bands:
            if low <= total <= high:
                return label
        raise InvalidInputError(f"{self.name} total {total} is out of range.", "item_scores")


PHQ9 = Instrument(
    name="PHQ-9",
    panel_loinc="44249-1",
    total_loinc="44261-6",
    item_loincs=(
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ),
    item_texts=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself, or that you are a failure or have let yourself "
        "or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed, or the opposite: "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
    ),
    bands=(
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ),
)

GAD7 = Instrument(
    name="GAD-7",
    panel_loinc="69737-5",
    total_loinc="70274-6",
    item_loincs=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
    item_texts=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    bands=((0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")),
)

INSTRUMENTS = {PHQ9.name: PHQ9, GAD7.name: GAD7}
ALL_INSTRUMENTS = (*INSTRUMENTS, "clinical")


@dataclass(frozen=True)
class Score:
    """A scored assessment. ``suicide_item_positive`` is PHQ-9 item 9 above zero."""

    instrument: str
    item_scores: tuple[int, ...]
    total: int | None
    severity: str | None
    suicide_item_positive: bool = False


def score(instrument: object, item_scores: object) -> Score:
    """Check and score an assessment; a clinical assessment carries no item scores."""
    if instrument == "clinical":
        if item_scores:
            raise InvalidInputError(
                "A clinical assessment has no item scores; use PHQ-9 or GAD-7 for scored ones.",
                "item_scores",
            )
        return Score("clinical", (), None, None)
    spec = INSTRUMENTS.get(instrument) if isinstance(instrument, str) else None
    if spec is None:
        raise InvalidInputError(
            f"Unknown instrument {instrument!r}: use one of {', '.join(ALL_INSTRUMENTS)}.",
            "instrument",
        )
    if not isinstance(item_scores, (list, tuple)) or len(item_scores) != spec.item_count:
        count = len(item_scores) if isinstance(item_scores, (list, tuple)) else 0
        raise InvalidInputError(
            f"{spec.name} has {spec.item_count} items; {count} item scores were given.",
            "item_scores",
        )
    for number, value in enumerate(item_scores, start=1):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
            raise InvalidInputError(
                f"{spec.name} item {number} must be scored 0, 1, 2 or 3, not {value!r}.",
                "item_scores",
            )
    items = tuple(int(v) for v in item_scores)
    total = sum(items)
    return Score(
        instrument=spec.name,
        item_scores=items,
        total=total,
        severity=spec.band(total),
        suicide_item_positive=spec is PHQ9 and items[8] > 0,
    )
