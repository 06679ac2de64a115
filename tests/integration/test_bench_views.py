"""The views benchmark still runs (a smoke run: its figures mean nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bench_support import smoke_run


@pytest.mark.slow
class TestViewsBenchmark:
    def test_a_smoke_run_measures_every_view_and_writes_its_section(self, tmp_path: Path) -> None:
        text = smoke_run(
            "views",
            tmp_path,
            CARELOG_BENCH_VIEWS_STORES="sqlite",
            CARELOG_BENCH_VIEWS_EVENTS="600",
            CARELOG_BENCH_VIEWS_LIVE_WRITES="5",
        )
        for name in (
            "current_plan",
            "audit_trail",
            "team_dashboard",
            "treatment_trials",
            "all views in one runner",
        ):
            assert f"sqlite: {name} catch-up" in text
        assert "sqlite: live wait for p50 / p99" in text
        assert "sqlite: floor: PlanState fold alone / raw scan" in text
        assert "sqlite: floor: audit_trail's inserts alone / raw scan" in text
