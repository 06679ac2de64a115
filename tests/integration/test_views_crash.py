"""Crash safety: a runner killed with SIGKILL at random points of its catch-up, then
restarted, leaves every view exactly as a fresh full replay builds it, with no event
applied twice (22 kills per store, over about 2,000 events and 300 accesses)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.views_log import synthetic_history
from projections.runner import Views
from services.bootstrap import CareLog
from tests.integration.views_support import (
    ReadOnlyAccess,
    dumps,
    fresh_replay,
    views_url_beside,
)

KILLS = 22
BATCH = 40
ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(carelog: CareLog, views_url: str, commits: int) -> tuple[int, bool]:
    """Start a runner process, let it commit ``commits`` batches, kill -9 it; returns the
    commits it reported and whether it was still catching up when killed."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.views_crash_child",
            carelog.config.database_url,
            views_url,
            carelog.config.effective_views_url,
            str(BATCH),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    seen = 0
    finished = False
    for line in child.stdout:
        if line.startswith("done"):
            finished = True
            break
        if not line.startswith("ready"):
            seen += 1
            if seen >= commits:
                child.send_signal(signal.SIGKILL)
                break
    child.wait(60)
    child.stdout.close()
    return seen, not finished and child.returncode == -signal.SIGKILL


@pytest.mark.slow
class TestCrash:
    def test_killed_and_restarted_runners_give_the_views_of_a_fresh_replay(
        self, carelog: CareLog, tmp_path: Path
    ) -> None:
        head = synthetic_history(carelog, 2000, seed_patients=3, interleave=7)
        for n in range(300):
            carelog.access_log.record(
                actor_id=f"staff-{n % 5}",
                actor_role="pharmacist",
                patient_id=None,
                what="patients",
                request_id=f"r{n}",
                source="127.0.0.1",
                allowed=n % 7 != 0,
            )
        reference = fresh_replay(carelog, tmp_path)
        assert len(reference["audit_trail"]["audit_trail"]) > head * 0.9
        rng = random.Random(20260301)
        batches = 3 * head // BATCH

        mid_way = 0
        for _ in range(KILLS):
            views_url = views_url_beside(carelog.config, tmp_path, "crash")
            _, killed = run_and_kill(carelog, views_url, rng.randint(1, batches - 10))
            mid_way += killed

            restarted = CareLog(carelog.config.with_(views_url=views_url))
            try:
                views = Views(
                    restarted.app,
                    restarted.db,
                    ReadOnlyAccess(carelog.access_log),
                    batch_size=BATCH,
                )
                positions = {row["name"]: row["position"] for row in views.status()}
                assert sum(positions.values()) < 3 * head, "killed before it caught up"
                views.catch_up()
                assert dumps(views) == reference
            finally:
                restarted.close()
        assert mid_way == KILLS
