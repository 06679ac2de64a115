"""A dependency-free progress bar for long CLI jobs (demo seeding, view rebuilds, imports)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Prints ``[####    ] done/total unit  rate/s  ETA`` to stderr, at most 10 times a second."""

    def __init__(
        self, total: int, unit: str = "items", stream: TextIO | None = None, width: int = 30
    ) -> None:
        self.total = max(total, 0)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.width = width
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self._draw(now)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _draw(self, now: float) -> None:
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * self.width)
        rate = self.rate()
        remaining = (self.total - self.done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r[{'#' * filled}{' ' * (self.width - filled)}] {self.done}/{self.total} "
            f"{self.unit}  {rate:,.0f}/s  ETA {remaining:,.0f}s "
        )
        self.stream.flush()

    def close(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()
