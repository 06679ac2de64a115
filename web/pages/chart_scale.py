"""The chart's geometry: its sizes, the time scale shared by every panel, and where a
value sits on a panel's axis."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

WIDTH = 960
LEFT = 170  # room for the panel labels
RIGHT = 24
TOP = 12
DOSE_HEIGHT = 84
SCORE_HEIGHT = 150
MARKER_HEIGHT = 34
GAP = 22
AXIS_HEIGHT = 34
SCORE_MAX = 27
SCORE_GRID = (5, 10, 15, 20)
TICK_STEPS = tuple(
    timedelta(seconds=s)
    for s in (
        1,
        5,
        15,
        60,
        300,
        900,
        3600,
        6 * 3600,
        86400,
        7 * 86400,
        30 * 86400,
        91 * 86400,
        365 * 86400,
    )
)
MAX_TICKS = 10
TRIAL_ROW = 16  # one row per medication trial in the trials panel


@dataclass
class Tick:
    pos: float
    label: str


class TimeScale:
    def __init__(self, start: datetime, end: datetime, fixed_start: bool = False) -> None:
        span = max((end - start).total_seconds(), 1.0)
        pad = timedelta(seconds=span * 0.04)
        try:
            self.start = start if fixed_start else start - pad
        except OverflowError:  # an old log's year-1 entry: no room before it
            self.start = start
        try:
            self.end = end + pad
        except OverflowError:
            self.end = end
        self.seconds = max((self.end - self.start).total_seconds(), 1.0)

    def shows(self, at: datetime) -> bool:
        return self.start <= at <= self.end

    def x(self, at: datetime) -> float:
        fraction = (at - self.start).total_seconds() / self.seconds
        return round(LEFT + fraction * (WIDTH - LEFT - RIGHT), 2)

    def ticks(self) -> list[Tick]:
        longest = TICK_STEPS[-1]
        step = next(
            (s for s in TICK_STEPS if self.seconds / s.total_seconds() <= MAX_TICKS),
            # Centuries (an old log's year-1 entry): whole years, still at most MAX_TICKS.
            longest * math.ceil(self.seconds / longest.total_seconds() / MAX_TICKS),
        )
        if step < timedelta(minutes=1):
            pattern = "%H:%M:%S"
        elif step < timedelta(days=1):
            pattern = "%d %b %H:%M"
        else:
            pattern = "%Y-%m-%d"
        size = step.total_seconds()
        first = math.ceil(self.start.timestamp() / size) * size
        ticks, t = [], first
        while t <= self.end.timestamp():
            at = datetime.fromtimestamp(t, UTC)
            ticks.append(Tick(self.x(at), at.strftime(pattern)))
            t += size
        return ticks


AXIS_LIMIT = 1e12
"""The highest a dose axis goes: a value beyond it (an old log's 1.7e308 mg, or its daily
total overflowing to infinity) is drawn at the top of its panel, its label saying what it
is, rather than stopping the page."""


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``value`` (the top of a dose axis)."""
    if not value <= AXIS_LIMIT:  # also NaN
        return AXIS_LIMIT
    if value <= 0:
        return 1.0
    power = float(10 ** math.floor(math.log10(value)))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def y_of(value: float, top: float, height: float, maximum: float) -> float:
    """Inside the panel whatever the value: non-finite or off the axis is drawn at its top."""
    fraction = value / maximum if math.isfinite(value) else 1.0
    return round(top + height - min(max(fraction, 0.0), 1.0) * height, 2)
