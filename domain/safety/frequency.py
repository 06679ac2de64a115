"""Reading a prescribed frequency as doses per day, and a dose step as a daily dose.

Maximum-dose and taper rules compare daily doses, so "10 mg twice daily" must become
20 mg/day. A frequency that cannot be read with confidence raises ``FrequencyError``
rather than being guessed: an ambiguous frequency is a known source of dosing errors.
Where a range is written ("every 6 to 8 hours"), the most frequent reading is taken, so
that a maximum-dose check sees the most the patient could take.
"""

from __future__ import annotations

import re

from domain.safety.context import DoseStep

MG_PER_UNIT = {"mg": 1.0, "mcg": 0.001, "g": 1000.0}
"""Units convertible to mg; mL and units depend on the product and are left as they are."""

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty four": "24", "twenty-four": "24", "thirty six": "36", "forty eight": "48",
    "seventy two": "72",
}  # fmt: skip

# Words that say how or why a dose is taken, not how often.
_QUALIFIERS = (
    r"as needed", r"as required", r"when required", r"if needed", r"prn", r"with food",
    r"with meals?", r"after food", r"before food", r"after meals?", r"before meals?",
    r"by mouth", r"orally", r"po", r"for sleep", r"regularly", r"take", r"up to", r"dose",
)  # fmt: skip

_PERIOD_DAYS = {"day": 1.0, "daily": 1.0, "week": 7.0, "weekly": 7.0, "month": 30.0,
                "monthly": 30.0}  # fmt: skip

_COUNT_WORDS = {"once": 1.0, "twice": 2.0, "thrice": 3.0}

_ABBREVIATIONS = {
    "qd": 1.0, "od": 1.0, "daily": 1.0, "once": 1.0, "every day": 1.0, "each day": 1.0,
    "per day": 1.0, "a day": 1.0, "bid": 2.0, "bd": 2.0, "tid": 3.0, "tds": 3.0, "qid": 4.0,
    "qds": 4.0, "weekly": 1 / 7, "every week": 1 / 7, "each week": 1 / 7, "qw": 1 / 7,
    "qwk": 1 / 7, "fortnightly": 1 / 14, "every other week": 1 / 14, "monthly": 1 / 30,
    "every month": 1 / 30, "every other day": 0.5, "on alternate days": 0.5,
    "alternate days": 0.5, "qod": 0.5, "hourly": 24.0, "every hour": 24.0,
}  # fmt: skip

# Times of day: each names one dose ("morning and night" is two).
_TIMES_OF_DAY = (
    r"(?:in the |every |each )?morning", r"qam", r"am", r"(?:at )?noon", r"(?:at )?lunch(?:time)?",
    r"(?:in the |every |each )?evening", r"qpm", r"pm", r"(?:at |every |each )?night",
    r"nightly", r"(?:at )?bedtime", r"before bed", r"qhs", r"hs", r"qn", r"nocte", r"mane",
)  # fmt: skip

_COUNT = re.compile(
    r"\b(?:(once|twice|thrice)|(\d+(?:\.\d+)?)(?:\s*(?:-|to|or)\s*(\d+(?:\.\d+)?))?\s*"
    r"(?:x|times?))\s*(?:a|per|each|every|an?)?\s*(day|daily|week|weekly|month|monthly)\b"
)
_INTERVAL = re.compile(
    r"\b(?:every|q)\s*(\d+(?:\.\d+)?)?(?:\s*(?:-|to|or)\s*(\d+(?:\.\d+)?))?\s*"
    r"(h|hr|hrs|hours?|d|days?|w|wk|wks|weeks?)\b"
)
_ABBREVIATION = re.compile(
    r"\b(?:"
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")\b"
)
_TIME_OF_DAY = re.compile(r"\b(?:" + "|".join(_TIMES_OF_DAY) + r")\b")
_QUALIFIER = re.compile(r"\b(?:" + "|".join(_QUALIFIERS) + r")\b")


_AS_NEEDED = re.compile(r"\b(?:as needed|as required|when required|if needed|prn)\b")


class FrequencyError(ValueError):
    """A frequency the dose checks cannot read without guessing."""


def _normalise(frequency: str) -> str:
    text = frequency.lower().replace("\u00d7", "x")
    text = re.sub(r"\([^)]*\)", " ", text)  # "(morning and night)" explains, never counts
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", "", text)  # b.i.d. -> bid, but 0.5 stays
    text = re.sub(r"[,;/]", " ", text)
    for word, digits in sorted(_NUMBER_WORDS.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"\b{word}\b", digits, text)
    text = re.sub(r"\b(\d+)\s*x\s*(?=day|daily|week|weekly)", r"\1 times ", text)
    return " ".join(text.split())


def as_needed(frequency: str) -> bool:
    """Whether the dose is taken only when needed (PRN): its doses a day are a ceiling,
    not what the patient takes."""
    return bool(_AS_NEEDED.search(_normalise(frequency)))


def _interval_per_day(match: re.Match[str]) -> float:
    low, high, unit = match.group(1), match.group(2), match.group(3)
    every = float(low) if low else 1.0
    if high is not None:  # "every 6 to 8 hours": the shorter interval, the most doses
        every = min(every, float(high))
    if every <= 0:
        raise FrequencyError("An interval of zero cannot be read as a frequency.")
    if unit.startswith("h"):
        return 24.0 / every
    if unit.startswith("d"):
        return 1.0 / every
    return 1.0 / (7.0 * every)


def _count_per_day(match: re.Match[str]) -> float:
    word, low, high, period = match.groups()
    count = _COUNT_WORDS[word] if word else max(float(low), float(high or low))
    return count / _PERIOD_DAYS[period]


def doses_per_day(frequency: str) -> float:
    """How many doses a day a frequency means ("twice daily" -> 2, "weekly" -> 1/7).

    Raises ``FrequencyError`` when the text is empty, contradictory ("once daily morning
    and night") or holds words that are not a frequency ("daily then 50 mg").
    """
    text = _normalise(frequency)
    if not text:
        raise FrequencyError("A frequency is required, e.g. 'once daily' or 'every 8 hours'.")
    readings: list[float] = []
    for pattern, reader in ((_COUNT, _count_per_day), (_INTERVAL, _interval_per_day)):
        for match in pattern.finditer(text):
            readings.append(reader(match))
        text = pattern.sub(" ", text)
    for match in _ABBREVIATION.finditer(text):
        readings.append(_ABBREVIATIONS[match.group(0)])
    text = _ABBREVIATION.sub(" ", text)
    times_of_day = len(_TIME_OF_DAY.findall(text))
    text = _QUALIFIER.sub(" ", _TIME_OF_DAY.sub(" ", text))
    leftover = [word for word in text.split() if word not in {"and", "&", "+", "at", "in"}]
    if leftover:
        raise FrequencyError(
            f"Cannot read the frequency {frequency!r} (unclear: {' '.join(leftover)!r}); "
            "write it as e.g. 'twice daily', 'every 8 hours' or 'at night'."
        )
    return _combine(frequency, readings, times_of_day)


def _combine(frequency: str, readings: list[float], times_of_day: int) -> float:
    distinct = sorted(set(readings))
    if len(distinct) > 1 or (not distinct and times_of_day == 0):
        raise FrequencyError(
            f"Cannot read the frequency {frequency!r}: it gives no single number of doses a "
            "day; write it as e.g. 'twice daily', 'every 8 hours' or 'at night'."
        )
    if not distinct:
        return float(times_of_day)
    per_day = distinct[0]
    if times_of_day and times_of_day != max(per_day, 1.0):
        raise FrequencyError(
            f"The frequency {frequency!r} contradicts itself: {times_of_day} time(s) of day "
            f"for {per_day:g} dose(s) a day."
        )
    return per_day


def mg_per_unit(unit: str) -> float | None:
    """The factor from ``unit`` to mg, or None when the unit is not a mass (mL, units)."""
    return MG_PER_UNIT.get(unit.strip().lower().replace("\u00b5g", "mcg").replace("ug", "mcg"))


def daily_dose(step: DoseStep) -> float:
    """The dose per day of a step: in mg where the unit is a mass, else in the step's unit."""
    factor = mg_per_unit(step.unit) or 1.0
    return step.amount * factor * doses_per_day(step.frequency)


def daily_mg(step: DoseStep) -> float | None:
    """The dose per day in mg, or None when the unit is not convertible to mg.

    Raises ``FrequencyError`` like ``doses_per_day``.
    """
    factor = mg_per_unit(step.unit)
    if factor is None:
        return None
    return step.amount * factor * doses_per_day(step.frequency)


def readable_daily_mg(step: DoseStep) -> float | None:
    """The dose per day in mg, or None when it cannot be read: a unit not convertible to
    mg, or a frequency ``doses_per_day`` does not understand (the rules that add doses
    up pass over such a step, or say they could not check it)."""
    try:
        return daily_mg(step)
    except FrequencyError:
        return None
