"""The write, history and scale benchmarks still run (smoke runs: their figures mean
nothing, but every figure the docs quote must still be produced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bench_support import smoke_run


@pytest.mark.slow
class TestWriteAndScaleBenchmarks:
    def test_writes_compares_a_command_with_its_references_and_group_commit(
        self, tmp_path: Path
    ) -> None:
        text = smoke_run("writes", tmp_path, CARELOG_BENCH_WRITES_STORES="sqlite")
        for figure in (
            "sqlite: raw one-row INSERT transactions",
            "sqlite: bare save(), one event each",
            "sqlite: command / bare save() (medians)",
            "sqlite: 4 clients, group commit on / one save per command (medians)",
            "sqlite: p99, 4 clients with group commit / 1 client (medians)",
        ):
            assert figure in text

    def test_history_times_every_clock_over_one_long_record(self, tmp_path: Path) -> None:
        text = smoke_run("history", tmp_path, CARELOG_BENCH_HISTORY_STORES="sqlite")
        assert "sqlite: events in the patient's stream | 50" in text  # 500+ events
        for query in (
            "at a version",
            "as known at T",
            "in effect at T",
            "as known at T1",
            "first query, nothing in memory (in effect at T)",
            "straight fold of the stream (in effect at T)",
        ):
            assert f"{query}, p50" in text

    def test_scale_builds_rebuilds_reads_and_verifies(self, tmp_path: Path) -> None:
        text = smoke_run("scale", tmp_path, CARELOG_BENCH_SCALE_STORES="sqlite")
        assert "sqlite: events in the log | 3,0" in text
        assert "sqlite: rebuild of every view, one after another" in text
        assert "sqlite: rebuild of every view, side by side (" in text
        assert "sqlite: verify result | ok" in text
        assert "sqlite: bytes per event" in text
