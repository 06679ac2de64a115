"""Every PostgreSQL URL CareLog opens gets the event store's start-up checks: a misspelt
parameter or an unreachable server in ``CARELOG_VIEWS_URL`` is a clear error and exit 2
at once, not a 30-second pool time-out and a stack trace."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_process import REPO, carelog_process

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not


def carelog(tmp_path: Path, views_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CARELOG_DATABASE_URL": f"sqlite:///{tmp_path / 'carelog.db'}",
        "CARELOG_VIEWS_URL": views_url,
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    return carelog_process(*args, env=env, cwd=REPO)


class TestTheViewsUrl:
    def test_a_misspelt_parameter_is_named_and_exits_2(self, tmp_path: Path) -> None:
        result = carelog(
            tmp_path, "postgresql://postgres@127.0.0.1:5432/carelog?sslmod=disable", "users", "list"
        )
        assert result.returncode == 2
        assert "CARELOG_VIEWS_URL: unknown parameter sslmod " in result.stderr
        assert "Traceback" not in result.stderr

    def test_an_unreachable_server_is_libpqs_reason_and_exits_2(self, tmp_path: Path) -> None:
        result = carelog(
            tmp_path, "postgresql://postgres@127.0.0.1:1/carelog?connect_timeout=3", "verify"
        )
        assert result.returncode == 2
        assert "cannot connect to the views database at 127.0.0.1:1" in result.stderr
        assert "Traceback" not in result.stderr
