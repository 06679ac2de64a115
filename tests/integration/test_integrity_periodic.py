"""Signed checkpoints without anyone asking: the process that follows the log (the web
process in the embedded default, ``carelog projections run`` when scaled out) signs one
every ``CARELOG_CHECKPOINT_INTERVAL`` seconds, and only when the chains have moved on."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.config import Config
from tests.cli_process import view_worker
from tests.conftest import Team, make_team
from tests.integration.tamper import seed

INTERVAL = 0.1
ROOT = Path(__file__).resolve().parents[2]
THREAD = "carelog-checkpoints"


def checkpoint_files(config: Config) -> list[Path]:
    return sorted(Path(config.checkpoint_dir).glob("checkpoint-*.json"))


def eventually(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def signed_position(carelog: CareLog) -> int:
    latest = carelog.integrity.directory.latest()
    return latest.chains["events"].position if latest else 0


def verified_position(carelog: CareLog) -> int | None:
    return (carelog.integrity.last_verified() or {}).get("verified_position")


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD and t.is_alive()]


@pytest.fixture
def periodic(config: Config) -> Iterator[CareLog]:
    """A CareLog that signs a checkpoint every ``INTERVAL`` seconds while it follows the log."""
    instance = CareLog(config.with_(checkpoint_interval=INTERVAL))
    yield instance
    instance.close()


@pytest.fixture
def staff(periodic: CareLog) -> Team:
    return make_team(periodic)


class TestCheckpointsWhileFollowingTheLog:
    def test_the_web_process_signs_a_checkpoint_without_being_asked(
        self, periodic: CareLog, staff: Team, config: Config
    ) -> None:
        from web import create_app

        seed(periodic, staff, patients=2)
        head = periodic.app.recorder.max_notification_id()
        embedded = CareLog(periodic.config.with_(run_projections=True))
        try:
            client = create_app(carelog=embedded).test_client()  # starts the views runner
            assert eventually(lambda: signed_position(embedded) == head)
            assert embedded.integrity.verify(record=False).ok
            # and /readyz reports what the background verification found
            operator = {"Authorization": f"Bearer {staff.tokens['admin']}"}
            assert eventually(
                lambda: (
                    client.get("/readyz", headers=operator).get_json()["integrity"][
                        "verified_position"
                    ]
                    == head
                )
            )
        finally:
            embedded.close()
        assert not checkpoint_threads()  # stopped with the views

    def test_nothing_new_is_signed_until_something_is_written(
        self, periodic: CareLog, staff: Team, config: Config
    ) -> None:
        seed(periodic, staff, patients=1)
        periodic.views.start()
        head = periodic.app.recorder.max_notification_id()
        assert eventually(lambda: verified_position(periodic) == head)
        verified = periodic.integrity.last_verified()
        time.sleep(INTERVAL * 8)  # several rounds with the chains standing still
        assert len(checkpoint_files(config)) == 1
        assert periodic.integrity.last_verified() == verified  # not re-verified either
        seed(periodic, staff, patients=1, prefix="B")
        head = periodic.app.recorder.max_notification_id()
        assert eventually(lambda: signed_position(periodic) == head)
        assert len(checkpoint_files(config)) >= 2

    def test_the_thread_stops_when_carelog_closes(self, config: Config) -> None:
        instance = CareLog(config.with_(checkpoint_interval=3600))
        instance.views.start()
        assert len(checkpoint_threads()) == 1
        began = time.monotonic()
        instance.close()
        assert not checkpoint_threads()
        assert time.monotonic() - began < 5  # it did not wait out the interval

    def test_an_interval_of_zero_signs_only_on_demand(
        self, periodic: CareLog, staff: Team, config: Config
    ) -> None:
        seed(periodic, staff, patients=1)
        instance = CareLog(config.with_(checkpoint_interval=0))
        try:
            instance.views.start()
            assert not checkpoint_threads()
            time.sleep(INTERVAL * 5)
            assert checkpoint_files(config) == []
        finally:
            instance.close()


@pytest.mark.served
class TestCheckpointsInAViewWorker:
    def test_a_projections_worker_signs_a_checkpoint_without_being_asked(
        self, periodic: CareLog, staff: Team, config: Config
    ) -> None:
        seed(periodic, staff, patients=1)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CARELOG_DATABASE_URL": config.database_url,
            "CARELOG_CHECKPOINT_DIR": config.checkpoint_dir,
            "CARELOG_CHECKPOINT_INTERVAL": str(INTERVAL),
        }
        if config.cipher_key:
            env["CARELOG_CIPHER_KEY"] = config.cipher_key
        with view_worker(env) as logged:
            assert f"audit checkpoints every {INTERVAL:g}s" in logged
            assert eventually(lambda: bool(checkpoint_files(config)), timeout=30)
        assert signed_position(periodic) == periodic.app.recorder.max_notification_id()
        assert periodic.integrity.verify(record=False).ok
