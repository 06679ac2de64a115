"""Read-your-writes: waiting until the views have projected the log up to a position.

The wait polls tightly (1 ms, rising to 20 ms) and wakes at once when this process's
runner commits (its condition is notified), so a request that wrote a moment ago reads
its own write from the views without sleeping a fixed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from projections import tracking
from projections.follower import Lane
from projections.sql.database import Database


def wait_until(reached: Callable[[], bool], changed: threading.Condition, timeout: float) -> bool:
    """True once ``reached()``; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        if reached():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        with changed:
            changed.wait(min(delay, left))
        delay = min(delay * 1.5, 0.02)


def projected(
    db: Database, lanes: Mapping[str, Lane], position: int, names: list[str], stream: str
) -> bool:
    """Every view in ``names`` has projected ``stream`` up to ``position``: by this
    process's lanes, else by the tracking rows (another process's runner)."""
    if all(lanes[n].positions.get(stream, 0) >= position for n in names):
        return True
    try:
        found = tracking.positions(db, names)
    except Exception:  # a busy or unreachable database: not reached yet
        return False
    return all(found.get((n, stream), (0, None))[0] >= position for n in names)
