"""What several benchmark modules share: percentiles and a CareLog on a fresh store."""

from __future__ import annotations

from typing import Any

from services.bootstrap import CareLog
from services.config import Config


def percentile(values: list[float], q: float) -> float:
    """The q-th quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_carelog(where: Any, tag: str, **settings: Any) -> CareLog:
    """A CareLog on a fresh store of ``where`` (``bench.views.places``): no views thread,
    no group commit unless asked, checkpoints in the run's own folder."""
    values: dict[str, Any] = {"run_projections": False, "group_commit_ms": 0, **settings}
    return CareLog(
        Config(
            database_url=where.url(tag),
            checkpoint_dir=str(where.folder / "checkpoints"),
            **values,
        )
    )
