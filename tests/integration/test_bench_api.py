"""The API benchmark still runs against a real server (a smoke run: its figures mean nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
class TestApiBenchmark:
    def test_a_smoke_run_measures_each_endpoint_and_writes_its_section(
        self, tmp_path: Path
    ) -> None:
        out = tmp_path / "benchmarks.md"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CARELOG_BENCH_SMOKE": "1",
            "CARELOG_BENCH_API_STORE": "sqlite",
            "CARELOG_BENCH_API_REQUESTS": "20",
            "CARELOG_BENCH_OUT": str(out),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench", "api"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        text = out.read_text()
        assert "<!-- bench:api -->" in text
        for kind in ("GET healthz", "GET plan", "POST dose change"):
            assert f"| {kind}: p99 |" in text
            assert f"| {kind}: non-2xx answers | 0 |" in text
