"""Running a benchmark module as ``make bench`` does, in smoke mode, for the tests that
check every benchmark still runs and writes its section (its figures mean nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def smoke_run(name: str, tmp_path: Path, **env: str) -> str:
    out = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", name],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CARELOG_BENCH_SMOKE": "1",
            "CARELOG_BENCH_OUT": str(out),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert f"<!-- bench:{name} -->" in text
    return text
