"""The API benchmark still runs against a real server (a smoke run: its figures mean nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bench_support import smoke_run


@pytest.mark.slow
class TestApiBenchmark:
    def test_a_smoke_run_measures_each_endpoint_and_writes_its_section(
        self, tmp_path: Path
    ) -> None:
        text = smoke_run(
            "api", tmp_path, CARELOG_BENCH_API_STORE="sqlite", CARELOG_BENCH_API_REQUESTS="20"
        )
        for kind in ("GET healthz", "GET plan", "POST dose change"):
            assert f"| {kind}: p99 |" in text
            assert f"| {kind}: non-2xx answers | 0 |" in text
