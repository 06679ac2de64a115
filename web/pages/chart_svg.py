"""Laying the chart out as inline SVG: stacked panels on one shared time axis.

One panel per medication (its own dose scale: 50 mg of sertraline and 1 mg of
risperidone do not share an axis; an as-needed drug hatched up to its amount per dose, never
a steady line), one panel for PHQ-9 and GAD-7 (0-27, the severity bands behind the lines),
one row of markers for alerts and side effects, and the time axis, over all time or a
range ending now (``start``).
The template draws exactly what this returns; nothing is computed in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from web.pages.chart import ChartData, Point
from web.pages.chart_bands import Band, prn_bands, severity_bands
from web.pages.chart_scale import (
    AXIS_HEIGHT,
    DOSE_HEIGHT,
    GAP,
    LEFT,
    MARKER_HEIGHT,
    RIGHT,
    SCORE_GRID,
    SCORE_HEIGHT,
    SCORE_MAX,
    TOP,
    TRIAL_ROW,
    WIDTH,
    Tick,
    TimeScale,
    nice_max,
)
from web.pages.chart_scale import y_of as _y


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


def _dots(
    points: list[Point],
    scale: TimeScale,
    top: float,
    height: float,
    maximum: float,
    css: str,
    shape: str = "circle",
) -> list[Dot]:
    """A dot for each point within the chart's range, on its panel's value scale (marked
    ``corrected`` where the entry was corrected)."""
    return [
        Dot(
            scale.x(p.at),
            _y(p.value, top, height, maximum),
            p.label,
            css + (" corrected" if p.corrected else ""),
            shape,
        )
        for p in points
        if scale.shows(p.at)
    ]


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
            panel.bands += prn_bands(series.points, scale, top, maximum, stop)
        else:
            panel.lines.append(
                (_step_path(series.points, scale, top, DOSE_HEIGHT, maximum, stop), "dose-line")
            )
        css = "prn-point" if series.as_needed else "dose-point"
        panel.dots += _dots(series.points, scale, top, DOSE_HEIGHT, maximum, css)
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
            shape = "circle" if css == "phq9" else "square"
            panel.dots += _dots(
                points, scale, top, SCORE_HEIGHT, SCORE_MAX, f"score-point {css}", shape
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
