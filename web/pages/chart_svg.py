"""Laying the chart out as inline SVG: stacked panels on one shared time axis.

One panel per medication (its own dose scale: 50 mg of sertraline and 1 mg of
risperidone do not share an axis), one panel for PHQ-9 and GAD-7 (0-27, the bands' cut
points as gridlines), one row of markers for alerts and side effects, and the time axis.
The template draws exactly what this returns; nothing is computed in the browser.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.scoring import INSTRUMENTS
from web.pages.chart import ChartData, Point

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
class Dot:
    x: float
    y: float
    title: str
    css: str
    shape: str = "circle"  # circle, square, triangle, diamond


@dataclass(frozen=True)
class Span:
    """A medication trial drawn as a bar from its start to its stop (or the chart's end)."""

    label: str
    start: datetime
    end: datetime | None
    outcome: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class Band:
    """A horizontal band behind the lines: a severity band of the scores, or the reach of
    an as-needed dose (hatched)."""

    x: float
    y: float
    width: float
    height: float
    label: str
    css: str


@dataclass
class Panel:
    title: str
    subtitle: str
    top: float
    height: float
    ticks: list[Tick] = field(default_factory=list)  # y gridlines
    lines: list[tuple[str, str]] = field(default_factory=list)  # (path, css class)
    dots: list[Dot] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)  # drawn first, behind everything


@dataclass
class Layout:
    width: int
    height: float
    left: float
    right: float
    panels: list[Panel]
    x_ticks: list[Tick]
    axis_y: float
    start: datetime
    end: datetime


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


def _y(value: float, top: float, height: float, maximum: float) -> float:
    """Inside the panel whatever the value: non-finite or off the axis is drawn at its top."""
    fraction = value / maximum if math.isfinite(value) else 1.0
    return round(top + height - min(max(fraction, 0.0), 1.0) * height, 2)


def _step_path(
    points: list[Point], scale: TimeScale, top: float, height: float, maximum: float, end: datetime
) -> str:
    """A dose holds until the next change: horizontal, then a vertical step."""
    parts = []
    for i, p in enumerate(points):
        x, y = scale.x(p.at), _y(p.value, top, height, maximum)
        parts.append(f"M {x} {y}" if i == 0 else f"H {x} V {y}")
    parts.append(f"H {scale.x(end)}")
    return " ".join(parts)


def _line_path(
    points: list[Point], scale: TimeScale, top: float, height: float, maximum: float
) -> str:
    coords = [f"{scale.x(p.at)} {_y(p.value, top, height, maximum)}" for p in points]
    return "M " + " L ".join(coords)


def severity_bands(instruments: list[str], top: float, x: float, width: float) -> list[Band]:
    """The severity bands of the instruments drawn, behind their lines: one band per
    range of totals, named by each instrument's band where they differ (a PHQ-9 of 15-19
    is moderately severe, a GAD-7 of 15 or more severe). A band's edges sit half a point
    below its lowest total, so a score on a cut point is drawn inside its band."""
    shown = [INSTRUMENTS[name] for name in instruments if name in INSTRUMENTS]
    lows = sorted({low for i in shown for low, _, _ in i.bands})
    bands = []
    for n, low in enumerate(lows):
        high = lows[n + 1] if n + 1 < len(lows) else SCORE_MAX + 1
        names = {i.name: i.band(low) for i in shown if low <= i.max_total}
        if len(set(names.values())) == 1:
            text = next(iter(names.values()))
        else:
            text = " · ".join(f"{name} {band}" for name, band in names.items())
        y_top = _y(min(high - 0.5, SCORE_MAX), top, SCORE_HEIGHT, SCORE_MAX)
        y_bottom = _y(max(low - 0.5, 0), top, SCORE_HEIGHT, SCORE_MAX)
        css = "band band-" + str(n)
        bands.append(Band(x, y_top, width, round(y_bottom - y_top, 2), text, css))
    return bands


def _prn_bands(
    points: list[Point], scale: TimeScale, top: float, maximum: float, stop: datetime
) -> list[Band]:
    """An as-needed dose: hatched from each step to the next, up to the amount per dose."""
    bands = []
    for n, p in enumerate(points):
        until = points[n + 1].at if n + 1 < len(points) else stop
        x0, x1 = scale.x(p.at), scale.x(until)
        y = _y(p.value, top, DOSE_HEIGHT, maximum)
        height = round(top + DOSE_HEIGHT - y, 2)
        bands.append(Band(x0, y, round(max(x1 - x0, 1.0), 2), height, p.label, "prn-band"))
    return bands


def layout(
    data: ChartData,
    end: datetime,
    spans: tuple[Span, ...] = (),
    start: datetime | None = None,
) -> Layout:
    """Panels for ``data`` on a time axis running to ``end`` (now, or the as-of moment),
    with a panel of medication-trial ``spans`` (oldest at the top) when there are any.
    With ``start`` the axis begins there (the chart's range): what lies before is left
    out, and lines from before enter at the left edge (the template clips them)."""
    times = [*(data.times() or [end]), *(s.start for s in spans)]
    if start is not None:
        scale = TimeScale(start, max(start, end), fixed_start=True)
    else:
        scale = TimeScale(min(times), max([*times, end]))
    panels: list[Panel] = []
    top = float(TOP)
    for series in data.doses:
        maximum = nice_max(max(p.value for p in series.points) * 1.1)  # inf: AXIS_LIMIT
        if series.as_needed:
            unit = f"{series.unit} per dose, as needed"
        elif series.per_dose:
            unit = f"{series.unit} per dose"
        else:
            unit = f"{series.unit}/day"
        panel = Panel(
            series.drug,
            unit,
            top,
            DOSE_HEIGHT,
            ticks=[
                Tick(_y(v, top, DOSE_HEIGHT, maximum), f"{v:g}") for v in (0, maximum / 2, maximum)
            ],
        )
        stop = series.stopped_at or scale.end
        if series.as_needed:  # no steady line: a hatched reach, open markers
            panel.bands += _prn_bands(series.points, scale, top, maximum, stop)
        else:
            panel.lines.append(
                (_step_path(series.points, scale, top, DOSE_HEIGHT, maximum, stop), "dose-line")
            )
        for p in series.points:
            if not scale.shows(p.at):
                continue
            panel.dots.append(
                Dot(
                    scale.x(p.at),
                    _y(p.value, top, DOSE_HEIGHT, maximum),
                    p.label,
                    ("prn-point" if series.as_needed else "dose-point")
                    + (" corrected" if p.corrected else ""),
                )
            )
        if series.stopped_at is not None and scale.shows(series.stopped_at):
            last = series.points[-1].value
            panel.dots.append(
                Dot(
                    scale.x(series.stopped_at),
                    _y(last, top, DOSE_HEIGHT, maximum),
                    f"{series.drug} stopped",
                    "dose-stop",
                    "cross",
                )
            )
        panels.append(panel)
        top += DOSE_HEIGHT + GAP
    if data.scores:
        panel = Panel(
            "PHQ-9 / GAD-7",
            "total score",
            top,
            SCORE_HEIGHT,
            ticks=[
                Tick(_y(v, top, SCORE_HEIGHT, SCORE_MAX), str(v))
                for v in (0, *SCORE_GRID, SCORE_MAX)
            ],
            bands=severity_bands(list(data.scores), top, LEFT, WIDTH - LEFT - RIGHT),
        )
        for instrument, points in data.scores.items():
            css = "phq9" if instrument == "PHQ-9" else "gad7"
            panel.lines.append(
                (_line_path(points, scale, top, SCORE_HEIGHT, SCORE_MAX), f"score-line {css}")
            )
            for p in points:
                if not scale.shows(p.at):
                    continue
                panel.dots.append(
                    Dot(
                        scale.x(p.at),
                        _y(p.value, top, SCORE_HEIGHT, SCORE_MAX),
                        p.label,
                        f"score-point {css}" + (" corrected" if p.corrected else ""),
                        "circle" if css == "phq9" else "square",
                    )
                )
        panels.append(panel)
        top += SCORE_HEIGHT + GAP
    if data.markers:
        panel = Panel("Alerts, side effects", "", top, MARKER_HEIGHT)
        middle = top + MARKER_HEIGHT / 2
        for m in data.markers:
            if not scale.shows(m.at):
                continue
            if m.kind == "alert":
                css = f"alert-marker sev-{m.severity}" + (" open" if m.open else "")
                panel.dots.append(Dot(scale.x(m.at), middle - 6, m.label, css, "triangle"))
            else:
                panel.dots.append(
                    Dot(
                        scale.x(m.at),
                        middle + 6,
                        m.label,
                        f"side-effect-marker sev-{m.severity}",
                        "diamond",
                    )
                )
        panels.append(panel)
        top += MARKER_HEIGHT + GAP
    if spans:
        height = TRIAL_ROW * len(spans) + 8
        panel = Panel("Medication trials", "start to stop", top, height)
        for i, span in enumerate(spans):
            y = round(top + 4 + TRIAL_ROW * i + TRIAL_ROW / 2, 2)
            stop = span.end or scale.end
            css = "trial-span outcome-" + span.outcome.replace(" ", "-")
            panel.lines.append((f"M {scale.x(span.start)} {y} H {scale.x(stop)}", css))
            if scale.shows(span.start):
                panel.dots.append(Dot(scale.x(span.start), y, span.label, "trial-start"))
        panels.append(panel)
        top += height + GAP
    axis_y = top - GAP + 6
    return Layout(
        WIDTH,
        axis_y + AXIS_HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        panels,
        scale.ticks(),
        axis_y,
        scale.start,
        scale.end,
    )
