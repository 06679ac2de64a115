"""``python -m bench [NAME ...]``: run CareLog's benchmarks and write ``docs/benchmarks.md``.

The framework, kept deliberately small:

- A benchmark is a module ``bench/<name>.py`` with a function ``run(report)``.
  ``python -m bench`` runs every such module in name order; ``python -m bench views
  integrity`` runs the ones named.
- ``report`` collects what a module measured:
  - ``report(name, value, unit="")`` or ``report.add(name, value, unit="")``: one figure;
  - ``report.samples(name, values, unit="")``: repeated measurements, shown as
    min / median / max (use this for anything timed more than once);
  - ``report.text(markdown)``: a paragraph or a table of the module's own.
- Each module's results go into its own section of ``docs/benchmarks.md``, between
  ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``. Running some modules replaces only
  their sections; the others stay as they were.
- Sizes come from environment variables each module documents (e.g.
  ``CARELOG_BENCH_VIEWS_EVENTS``); ``CARELOG_BENCH_SMOKE=1`` asks every module for a tiny run
  (a smoke test of the benchmark itself: its figures mean nothing). A smoke run prints its
  report and leaves ``docs/benchmarks.md`` alone unless ``CARELOG_BENCH_OUT`` names a file.
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import sqlite3
import statistics
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured by `make bench` (`python -m bench`); each section below is written by one
`bench/<name>.py` module and says how it was measured. Timed figures are
min / median / max over repeated runs.
"""


def smoke() -> bool:
    return os.environ.get("CARELOG_BENCH_SMOKE", "") not in ("", "0")


class Report:
    """What one benchmark module measured, as a Markdown section."""

    def __init__(self, name: str, title: str) -> None:
        self.name = name
        self.title = title
        self.parts: list[str] = []
        self.rows: list[tuple[str, str, str]] = []

    def __call__(self, name: str, value: Any, unit: str = "") -> None:
        self.add(name, value, unit)

    def add(self, name: str, value: Any, unit: str = "") -> None:
        shown = (
            f"{value:,.3f}".rstrip("0").rstrip(".")
            if isinstance(value, float)
            else f"{value:,}"
            if isinstance(value, int)
            else str(value)
        )
        self.rows.append((name, shown, unit))
        print(f"  {name:<60} {shown:>16} {unit}", flush=True)

    def samples(self, name: str, values: Sequence[float], unit: str = "") -> None:
        low, mid, high = min(values), statistics.median(values), max(values)
        self.add(name, f"{_num(low)} / {_num(mid)} / {_num(high)}", unit)

    def text(self, markdown: str) -> None:
        self.parts.append(markdown.strip())

    def markdown(self) -> str:
        out = [f"## {self.title}", ""]
        for part in self.parts:
            out += [part, ""]
        if self.rows:
            out += ["| figure | value | unit |", "|---|---:|---|"]
            out += [f"| {n} | {v} | {u} |" for n, v, u in self.rows]
            out.append("")
        return "\n".join(out)


def _num(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def modules(names: Iterable[str]) -> list[str]:
    here = Path(__file__).resolve().parent
    found = sorted(p.stem for p in here.glob("*.py") if not p.stem.startswith("_"))
    chosen = list(names) or found
    unknown = [n for n in chosen if n not in found]
    if unknown:
        raise SystemExit(f"no benchmark module {', '.join(unknown)}; have: {', '.join(found)}")
    return chosen


def machine() -> str:
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at the start"
    return (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s){load}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}."
    )


def write(out: Path, sections: dict[str, str]) -> None:
    text = out.read_text() if out.exists() else HEADER
    for name, body in sections.items():
        block = f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench:{name} -->"
        marker = re.escape(name)
        pattern = re.compile(rf"<!-- bench:{marker} -->.*?<!-- /bench:{marker} -->", re.S)
        found = pattern.search(text)
        if found:
            text = text[: found.start()] + block + text[found.end() :]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def main(argv: Sequence[str]) -> int:
    sections: dict[str, str] = {}
    for name in modules(argv):
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        title = (module.__doc__ or name).strip().splitlines()[0].rstrip(".")
        print(f"== {name}: {title}", flush=True)
        report = Report(name, title)
        report.text(machine())
        run(report)
        sections[name] = report.markdown()
    target = os.environ.get("CARELOG_BENCH_OUT")
    if smoke() and not target:
        print("\n".join(sections.values()))
        return 0
    out = Path(target) if target else DEFAULT_OUT
    write(out, sections)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
