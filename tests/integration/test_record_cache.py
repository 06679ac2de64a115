"""The in-memory record each process keeps between commands (CARELOG_RECORD_CACHE).

A cached record must never show less than the log (another process's writes are read
before each use) nor more (a decision that was refused or not saved leaves no trace), and
concurrent commands in one process must not lose updates to the shared object.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.command_context import CommandContext
from domain.errors import SafetyBlockError
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team, make_team
from tests.integration.test_safety_writes import prescribe, setup, with_order
from tests.integration.threads import in_threads
from tests.patient_writes import dose_change


@pytest.fixture
def second(config: Config) -> Iterator[CareLog]:
    """Another CareLog on the same store: a second API process, with its own cache."""
    instance = CareLog(config)
    yield instance
    instance.close()


def doses(carelog: CareLog, pid: str) -> list[float]:
    return carelog.app.read_record(
        pid,
        lambda r: [
            float(o.steps[-1].dose["amount"])
            for o in r.plan.orders.values()
            if o.status == "active"
        ],
    )


def change(carelog: CareLog, team: Team, pid: str, order_id: str, amount: float) -> int:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist), pid, dose_change(order_id, amount)
    ).version


class TestTwoProcesses:
    def test_each_sees_the_others_writes_before_deciding(
        self, carelog: CareLog, second: CareLog
    ) -> None:
        team = make_team(carelog)
        pid, order = with_order(carelog, team, "sertraline", 50)
        assert doses(second, pid) == [50.0]  # the second process caches the record now
        v1 = change(carelog, team, pid, order, 100)
        assert doses(second, pid) == [100.0]
        v2 = change(second, team, pid, order, 150)  # decided on the record with v1 in it
        assert v2 > v1
        assert doses(carelog, pid) == [150.0]
        v3 = change(carelog, team, pid, order, 100)
        assert v3 > v2
        assert [e.originator_version for e in carelog.history.events(pid)] == list(
            range(1, len(carelog.history.events(pid)) + 1)
        )

    def test_a_command_decided_on_a_stale_record_is_retried_not_lost(
        self, carelog: CareLog, second: CareLog
    ) -> None:
        team = make_team(carelog)
        pid, order = with_order(carelog, team, "sertraline", 50)
        doses(second, pid)
        # Both cache the record; each then writes in turn many times over.
        for n in range(10):
            change(carelog if n % 2 else second, team, pid, order, 50 + 25 * (n % 3 + 1))
        events = carelog.history.events(pid)
        assert sum(type(e).__name__ == "DoseChanged" for e in events) == 10
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))


class TestRefusedDecisions:
    def test_a_blocked_prescription_leaves_no_trace_in_memory(self, carelog: CareLog) -> None:
        team = make_team(carelog)
        pid = setup(carelog, team)
        prescribe(carelog, team, pid, "sertraline", 50)
        version = carelog.app.read_record(pid, lambda r: r.version)
        with pytest.raises(SafetyBlockError):
            # The aggregate takes the order before the rules refuse it.
            prescribe(carelog, team, pid, "phenelzine", 15)
        drugs, now = carelog.app.read_record(
            pid, lambda r: ([o.drug["name"] for o in r.plan.orders.values()], r.version)
        )
        assert drugs == ["sertraline"]
        assert now == version
        after = prescribe(carelog, team, pid, "mirtazapine", 15)
        assert after.version == version + 1
        stored = [e.originator_version for e in carelog.history.events(pid)]
        assert stored == list(range(1, version + 2))


class TestOneProcess:
    def test_concurrent_commands_on_one_record_all_land(self, carelog: CareLog) -> None:
        team = make_team(carelog)
        pid, order = with_order(carelog, team, "sertraline", 50)
        errors: list[BaseException] = []

        def work(k: int) -> None:
            for n in range(10):
                try:
                    change(carelog, team, pid, order, 50 + 25 * ((k + n) % 4 + 1))
                except BaseException as exc:
                    errors.append(exc)

        in_threads(work, 4)  # work keeps its own refusals in errors
        # Two threads may ask for the dose already given: that refusal is right, not lost.
        assert all("already" in str(e) or "same" in str(e) for e in errors), errors
        events = carelog.history.events(pid)
        changed = sum(type(e).__name__ == "DoseChanged" for e in events)
        assert changed + len(errors) == 40
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        cached = carelog.app.read_record(pid, lambda r: r.version)
        assert cached == events[-1].originator_version
        rebuilt = CareLog(carelog.config.with_(record_cache=0))
        try:
            assert doses(rebuilt, pid) == doses(carelog, pid)
        finally:
            rebuilt.close()
