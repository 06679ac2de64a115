"""The outcomes page's chart: response and remission rates by drug class, as inline SVG.

One row per drug class; two bars (response, remission) on a 0-100 % scale. A class
suppressed for having fewer than 5 patients gets no bars, only that note, so the chart
never shows a figure the API withholds. Computed here; the template only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WIDTH = 720
LEFT = 200
RIGHT = 60
TOP = 24
ROW = 46
BAR = 14


@dataclass
class Bar:
    y: float
    width: float
    css: str
    label: str


@dataclass
class Row:
    title: str
    y: float
    note: str | None
    bars: list[Bar] = field(default_factory=list)


@dataclass
class OutcomesChart:
    width: int
    height: int
    left: int
    right: int
    rows: list[Row]
    ticks: list[tuple[float, str]]


def _x(percent: float) -> float:
    return round(percent / 100 * (WIDTH - LEFT - RIGHT), 2)


def outcomes_chart(classes: list[dict[str, Any]]) -> OutcomesChart:
    rows = []
    for i, cell in enumerate(classes):
        top = TOP + i * ROW
        if cell["suppressed"]:
            rows.append(Row(cell["drug_class"], top, "fewer than 5 patients: not shown"))
            continue
        if cell["response_rate"] is None:
            rows.append(Row(cell["drug_class"], top, "no trial judged yet"))
            continue
        row = Row(cell["drug_class"], top, None)
        for j, (key, css, name) in enumerate(
            (
                ("response_rate", "bar-response", "response"),
                ("remission_rate", "bar-remission", "remission"),
            )
        ):
            rate = float(cell[key])
            judged = cell["judged_trials"]
            label = f"{cell['drug_class']}: {name} {rate:g} % of {judged} judged trial(s)"
            row.bars.append(Bar(top + j * (BAR + 2), _x(rate), css, label))
        rows.append(row)
    ticks = [(LEFT + _x(p), f"{p} %") for p in (0, 25, 50, 75, 100)]
    return OutcomesChart(
        WIDTH, TOP + max(len(rows), 1) * ROW + 24, LEFT, WIDTH - RIGHT, rows, ticks
    )
