"""``carelog`` run as an operator runs it: a command in a process of its own, started the
way ``python -m services.cli.main`` starts it, with what it prints captured as text."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.config import Config

REPO = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "services.cli.main")
"""The command line that starts ``carelog`` from this checkout."""


def carelog_process(
    *args: str, env: Mapping[str, str], timeout: float = 120, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``carelog ARGS`` run to completion (``options``: ``cwd``, ``check``, ...); its exit
    status is the caller's to check unless ``check=True``."""
    return subprocess.run(
        [*CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **{"check": False, **options},
    )


def use_store(monkeypatch: pytest.MonkeyPatch, config: Config) -> None:
    """Point the ``carelog`` commands this process runs (``main([...])``) at ``config``'s
    store and checkpoints: the CLI reads its configuration from the environment, as in
    production."""
    monkeypatch.setenv("CARELOG_DATABASE_URL", config.database_url)
    monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", config.checkpoint_dir)


@contextmanager
def view_worker(env: Mapping[str, str]) -> Iterator[str]:
    """``carelog projections run`` in a process of its own, given the first line it logs;
    stopped with SIGTERM when the block ends, when it must exit 0."""
    worker = subprocess.Popen(
        [*CLI, "projections", "run"], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert worker.stderr is not None
        yield worker.stderr.readline()
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(30)
        if worker.stderr is not None:
            worker.stderr.close()
    assert code == 0
