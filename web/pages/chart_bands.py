"""What the chart draws behind its lines: the PHQ-9/GAD-7 severity bands, named from the
instruments' own definitions, and the hatched reach of an as-needed dose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.scoring import INSTRUMENTS
from web.pages.chart import Point
from web.pages.chart_scale import DOSE_HEIGHT, SCORE_HEIGHT, SCORE_MAX, TimeScale, y_of


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
        y_top = y_of(min(high - 0.5, SCORE_MAX), top, SCORE_HEIGHT, SCORE_MAX)
        y_bottom = y_of(max(low - 0.5, 0), top, SCORE_HEIGHT, SCORE_MAX)
        css = "band band-" + str(n)
        bands.append(Band(x, y_top, width, round(y_bottom - y_top, 2), text, css))
    return bands


def prn_bands(
    points: list[Point], scale: TimeScale, top: float, maximum: float, stop: datetime
) -> list[Band]:
    """An as-needed dose: hatched from each step to the next, up to the amount per dose."""
    bands = []
    for n, p in enumerate(points):
        until = points[n + 1].at if n + 1 < len(points) else stop
        x0, x1 = scale.x(p.at), scale.x(until)
        y = y_of(p.value, top, DOSE_HEIGHT, maximum)
        height = round(top + DOSE_HEIGHT - y, 2)
        bands.append(Band(x0, y, round(max(x1 - x0, 1.0), 2), height, p.label, "prn-band"))
    return bands
