"""The patient log on both stores: writes, conflicts, restarts and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import DuplicateError, NotFoundError, VersionConflictError
from services.bootstrap import CareLog
from services.config import Config
from tests import synthetic_patients as synthetic
from tests.conftest import Team
from tests.integration.threads import in_threads


def register(carelog: CareLog, team: Team, mrn: str = "MRN-1") -> str:
    ctx = CommandContext(team.psychiatrist)
    return synthetic.register(carelog, ctx, mrn, "Test Patient", "1985-05-05")


def prescribe(
    carelog: CareLog, team: Team, pid: str, drug: str = "sertraline", amount: float = 50
) -> str:
    ctx = CommandContext(team.psychiatrist)
    return synthetic.prescribe(carelog, ctx, pid, drug=drug, dose=Dose(amount, "mg"))


class TestWrites:
    def test_write_returns_position_and_version(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team)
        result = carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.AddNote(kind="progress", modality="supportive", text="seen today"),
        )
        assert result.version == 3
        assert result.position == carelog.app.recorder.max_notification_id()
        assert result.ids["note_id"]

    def test_second_registration_of_an_external_id_is_refused(
        self, carelog: CareLog, team: Team
    ) -> None:
        register(carelog, team, "MRN-7")
        before = carelog.app.recorder.max_notification_id()
        with pytest.raises(DuplicateError, match=r"(?i)mrn-7"):
            register(carelog, team, "mrn-7 ")
        assert carelog.app.recorder.max_notification_id() == before

    def test_expected_version_mismatch_writes_nothing(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team)
        with pytest.raises(VersionConflictError):
            carelog.commands.execute(
                CommandContext(team.psychiatrist),
                pid,
                c.AddNote(kind="progress", modality="supportive", text="x"),
                expected_version=1,
            )
        assert carelog.app.get_record(pid).version == 2

    def test_unknown_patient_is_not_found(self, carelog: CareLog, team: Team) -> None:
        with pytest.raises(NotFoundError):
            carelog.commands.execute(
                CommandContext(team.psychiatrist),
                "7d9f0c7e-0000-4000-8000-000000000000",
                c.AddNote(kind="progress", modality="supportive", text="x"),
            )

    def test_dose_change_schedules_a_check_in(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team)
        order = prescribe(carelog, team, pid)
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.ChangeDose(order_id=order, dose=Dose(100, "mg"), reason="titration"),
        )
        follow_ups = list(carelog.app.get_record(pid).plan.follow_ups.values())
        assert len(follow_ups) == 1
        assert "sertraline" in follow_ups[0].purpose


class TestRestart:
    def test_every_event_is_there_after_reopening(
        self, config: Config, team: Team, carelog: CareLog
    ) -> None:
        pid = register(carelog, team)
        prescribe(carelog, team, pid)
        version = carelog.app.get_record(pid).version
        carelog.close()
        reopened = CareLog(config)
        try:
            record = reopened.app.get_record(pid)
            assert record.version == version
            assert len(record.plan.orders) == 1
        finally:
            reopened.close()


class TestConcurrency:
    def test_eight_threads_changing_doses_on_one_patient_lose_nothing(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team)
        # One order per thread, of a drug outside the rule pack so that no safety alert
        # adds events; each thread walks its order through 100 distinct doses.
        orders = [prescribe(carelog, team, pid, drug=f"zz-study-drug-{n}") for n in range(8)]
        start_version = carelog.app.get_record(pid).version

        def dose(n: int, i: int) -> float:
            return float(100 + n * 1000 + i)

        def worker(n: int) -> None:
            for i in range(100):
                carelog.commands.execute(
                    CommandContext(team.psychiatrist),
                    pid,
                    c.ChangeDose(
                        order_id=orders[n], dose=Dose(dose(n, i), "mg"), reason=f"step {i}"
                    ),
                )

        errors = in_threads(worker, 8)
        assert not errors
        record = carelog.app.get_record(pid)
        events = list(carelog.app.events.get(record.id))
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        assert len({e.event_id for e in events}) == len(events)
        new = events[start_version:]
        changes = [e for e in new if type(e).__name__ == "DoseChanged"]
        assert len(changes) == 800
        # the only other writes are the check-ins the dose changes scheduled (one, or a few
        # when threads whose clocks were read a moment apart race for the first one)
        others = {type(e).__name__ for e in new if type(e).__name__ != "DoseChanged"}
        assert others == {"FollowUpScheduled"}
        for n, order_id in enumerate(orders):
            mine = [e.dose["amount"] for e in changes if e.order_id == order_id]
            assert mine == [dose(n, i) for i in range(100)], "a dose change was lost or reordered"
            steps = record.plan.orders[order_id].steps
            assert len(steps) == 101
            assert steps[-1].dose == {"amount": dose(n, 99), "unit": "mg"}


class TestHistoryClocks:
    def test_known_at_and_in_effect_at_differ_for_a_late_entry(
        self, carelog: CareLog, team: Team
    ) -> None:
        t0 = datetime.now(UTC) - timedelta(days=30)
        psy = team.psychiatrist
        pid = carelog.commands.register_patient(
            CommandContext(psy, now=t0),
            c.RegisterPatient(
                external_id="MRN-H", name="H", birth_date=date.fromisoformat("1970-01-01")
            ),
        ).patient_id
        late = carelog.commands.execute(
            CommandContext(psy, now=t0 + timedelta(days=10)),
            pid,
            c.Prescribe(
                drug="sertraline",
                dose=Dose(50, "mg"),
                frequency="once daily",
                route="oral",
                indication="depression",
                effective_at=t0 + timedelta(days=2),
            ),
        )
        day5 = t0 + timedelta(days=5)
        assert carelog.history.known_at(pid, day5).state.orders == {}
        in_effect = carelog.history.in_effect_at(pid, day5)
        assert list(in_effect.state.orders) == [late.ids["order_id"]]
        # what we knew on day 5 about day 5: nothing yet
        assert carelog.history.in_effect_at(pid, day5, known_at=day5).state.orders == {}

    def test_history_held_in_memory_sees_another_process_writes(
        self, carelog: CareLog, config: Config, team: Team
    ) -> None:
        """The point-in-time reads keep the stream in memory with plan checkpoints: a
        second process's dose change and late entry must show in the next answer."""
        second = CareLog(config.with_(history_cache=1000))
        try:
            t0 = datetime.now(UTC) - timedelta(days=30)
            psy = team.psychiatrist
            ctx = CommandContext(psy, now=t0)
            pid = synthetic.register(carelog, ctx, "MRN-M", "M", "1970-01-01")
            order = synthetic.prescribe(carelog, ctx, pid, indication="Depression")
            day20 = t0 + timedelta(days=20)

            def dose(history_of: CareLog, known_at: datetime | None = None) -> float:
                state = history_of.history.in_effect_at(pid, day20, known_at=known_at).state
                return float(state.orders[order].steps[-1].dose["amount"])

            assert dose(second) == 50  # the second process now holds the stream
            for day, amount in ((10, 100), (5, 75)):  # the day-5 change is entered late
                carelog.commands.execute(
                    CommandContext(psy, now=t0 + timedelta(days=25 - day)),
                    pid,
                    c.ChangeDose(
                        order_id=order,
                        dose=Dose(amount, "mg"),
                        reason="titration",
                        effective_at=t0 + timedelta(days=day),
                    ),
                )
            assert dose(second) == 100  # day 10's change is the last in effect on day 20
            assert dose(second, known_at=t0 + timedelta(days=12)) == 50  # neither known yet
            day7 = t0 + timedelta(days=7)
            state = second.history.in_effect_at(pid, day7).state  # the late entry, in place
            assert state.orders[order].steps[-1].dose["amount"] == 75
            known = second.history.in_effect_at(pid, day7, known_at=t0 + timedelta(days=16)).state
            assert known.orders[order].steps[-1].dose["amount"] == 50  # entered on day 20
            every = second.history.events(pid)
            assert len(every) == len(carelog.history.events(pid))
            assert (
                second.history.known_at(pid, datetime.now(UTC)).version
                == every[-1].originator_version
            )
        finally:
            second.close()

    def test_timeline_cursor_is_stable(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team)
        for _ in range(5):
            carelog.commands.execute(
                CommandContext(team.psychiatrist),
                pid,
                c.AddNote(kind="progress", modality="supportive", text="x"),
            )
        page1, cursor = carelog.history.timeline(pid, limit=3)
        assert [e["version"] for e in page1] == [1, 2, 3]
        assert cursor == 3
        page2, cursor2 = carelog.history.timeline(pid, after_version=cursor, limit=10)
        assert [e["version"] for e in page2] == [4, 5, 6, 7]
        assert cursor2 is None
        notes, _ = carelog.history.timeline(pid, types=["NoteAdded"])
        assert {e["type"] for e in notes} == {"NoteAdded"}


class TestGroupCommit:
    def test_concurrent_writers_with_group_commit_lose_nothing(
        self, config: Config, team: Team
    ) -> None:
        instance = CareLog(config.with_(group_commit_ms=2.0))
        try:
            patients = [register(instance, team, f"MRN-G{i}") for i in range(4)]
            errors: list[BaseException] = []

            def worker(n: int) -> None:
                try:
                    for i in range(25):
                        instance.commands.execute(
                            CommandContext(team.psychiatrist),
                            patients[(n + i) % 4],
                            c.AddNote(kind="progress", modality="other", text=f"{n}-{i}"),
                        )
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors
            texts = sorted(
                n.text for p in patients for n in instance.app.get_record(p).plan.notes.values()
            )
            assert texts == sorted(f"{n}-{i}" for n in range(8) for i in range(25))
            assert instance.app.committer is not None
            assert instance.app.committer.batched_commands >= 200
        finally:
            instance.close()
