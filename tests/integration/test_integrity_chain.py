"""The chain as CareLog writes it: in the write's transaction, under concurrent writers, and
for a store that existed before chaining."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from services.integrity.recorder import ChainBrokenError
from tests.conftest import Team
from tests.integration.tamper import RawLog, seed
from tests.integration.threads import in_threads
from tests.patient_writes import registration


@dataclass(frozen=True)
class PlainConfig(Config):
    """CareLog as it was before chaining: the library's own recorders."""

    def eventsourcing_env(self) -> dict[str, str]:
        env = super().eventsourcing_env()
        env.pop("APPLICATION_RECORDER_TOPIC")
        return env


class TestWritingTheChain:
    def test_every_event_gets_its_link_in_the_same_write(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        seed(carelog, team, patients=2)
        with RawLog(config) as raw:
            assert [p for p, _ in raw.links()] == raw.positions()

    def test_a_refused_write_leaves_no_link_behind(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        from domain.errors import DuplicateError

        seed(carelog, team, patients=1)
        with pytest.raises(DuplicateError):
            seed(carelog, team, patients=1)  # the same MRN again
        with RawLog(config) as raw:
            assert [p for p, _ in raw.links()] == raw.positions()
        assert carelog.integrity.verify().ok

    def test_writers_on_four_threads_leave_a_chain_that_verifies(
        self, carelog: CareLog, team: Team
    ) -> None:
        ctx = CommandContext(team.psychiatrist)
        shared = carelog.app.register_patient(
            ctx,
            registration("MRN-SHARED", "Shared", "1980-01-01"),
        ).patient_id

        def work(n: int) -> None:
            for i in range(25):
                carelog.app.write(
                    shared,
                    ctx,
                    lambda r, i=i: r.add_note(
                        ctx, c.AddNote(kind="progress", modality="supportive", text=f"{n}/{i}")
                    ),
                )

        errors = in_threads(work, 4)
        assert not errors
        result = carelog.integrity.verify()
        assert result.ok, result.problems
        # PostgreSQL leaves gaps where conflicting writes rolled back: count rows
        with RawLog(carelog.config) as raw:
            stored = len(raw.positions())
        assert result.chains["events"].records == stored
        assert stored == carelog.app.get_record(shared).version + 1  # + the MRN index event


class TestUpgradingAnUnchainedStore:
    def test_a_store_written_before_chaining_is_sealed_once_and_then_chained(
        self, config: Config, team: Team
    ) -> None:
        plain = CareLog(PlainConfig(**{f: getattr(config, f) for f in config.__dataclass_fields__}))
        try:
            seed(plain, team, patients=2)
            written = plain.app.recorder.max_notification_id()
        finally:
            plain.close()
        chained = CareLog(config)
        try:
            seed(chained, team, patients=1, prefix="AFTER")
            result = chained.integrity.verify()
            assert result.ok, result.problems
            assert result.chains["events"].records > written
        finally:
            chained.close()


class TestDeletingTheNewestEvents:
    def test_deleting_the_newest_events_stops_writes_or_shows_them_missing(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        seed(carelog, team, patients=1)
        with RawLog(config) as raw:
            deleted = raw.positions()[-2:]
            raw.truncate_from(deleted[0], links_too=False)
        ctx = CommandContext(team.psychiatrist)
        if not config.is_postgres:  # SQLite would reuse the positions: the write is refused
            with pytest.raises(ChainBrokenError, match="carelog verify"):
                carelog.app.register_patient(
                    ctx,
                    registration("MRN-NEXT", "Next", "1980-01-01"),
                )
            return
        # PostgreSQL never reuses a position: the write chains on, the gap stays visible.
        carelog.app.register_patient(
            ctx,
            registration("MRN-NEXT", "Next", "1980-01-01"),
        )
        problems = carelog.integrity.verify().problems
        assert [(p.position, p.kind) for p in problems] == [(d, "missing") for d in deleted]


class TestStatus:
    def test_status_reports_the_last_verified_position_and_newest_checkpoint(
        self, carelog: CareLog, team: Team
    ) -> None:
        seed(carelog, team, patients=1)
        checkpoint = carelog.integrity.checkpoint()
        carelog.integrity.verify()
        status = carelog.integrity.status()
        assert checkpoint is not None
        head = carelog.app.recorder.max_notification_id()
        assert status["verified_position"] == head
        assert status["verified_ok"] is True
        assert status["checkpoint"]["seq"] == checkpoint.seq
        assert status["checkpoint"]["positions"]["events"] == head

    def test_the_checkpoint_worker_signs_new_events_and_keeps_the_status_current(
        self, carelog: CareLog, team: Team
    ) -> None:
        seed(carelog, team, patients=1)
        head = carelog.app.recorder.max_notification_id()
        stop = threading.Event()
        worker = threading.Thread(target=carelog.integrity.checkpoint_forever, args=(0.01, stop))
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while carelog.integrity.status()["verified_position"] != head:
                assert time.monotonic() < deadline, "the worker never caught up"
                time.sleep(0.02)
        finally:
            stop.set()
            worker.join()
        status = carelog.integrity.status()
        assert status["verified_ok"] is True
        assert status["checkpoint"]["positions"]["events"] == head
