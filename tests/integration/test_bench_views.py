"""The views benchmark still runs (a smoke run: its figures mean nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
class TestViewsBenchmark:
    def test_a_smoke_run_measures_every_view_and_writes_its_section(self, tmp_path: Path) -> None:
        out = tmp_path / "benchmarks.md"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CARELOG_BENCH_SMOKE": "1",
            "CARELOG_BENCH_VIEWS_STORES": "sqlite",
            "CARELOG_BENCH_VIEWS_EVENTS": "600",
            "CARELOG_BENCH_VIEWS_LIVE_WRITES": "5",
            "CARELOG_BENCH_OUT": str(out),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench", "views"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        text = out.read_text()
        assert "<!-- bench:views -->" in text
        for name in ("current_plan", "audit_trail", "team_dashboard"):
            assert f"sqlite: {name} catch-up" in text
        assert "sqlite: live wait for p50 / p99" in text
