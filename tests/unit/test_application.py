"""The application's write path on an in-memory store: snapshot intervals per instance and
an honest error when concurrent writers exhaust the retries."""

from __future__ import annotations

import threading
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

import services.writing.application
from domain import commands as c
from domain.command_context import CommandContext
from domain.errors import VersionConflictError, WriteContentionError
from domain.patient_record import PatientRecord
from services.writing.application import CareLogApplication
from tests.unit.record_builder import registration
from tests.unit.test_patient_record import PSY

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def registered(app: CareLogApplication) -> str:
    return app.register_patient(
        CommandContext(PSY), registration("MRN-A", "A", "1980-01-01")
    ).patient_id


def add_notes(app: CareLogApplication, pid: str, count: int) -> None:
    for i in range(count):
        app.write(
            pid,
            CommandContext(PSY),
            lambda rec, i=i: rec.add_note(
                CommandContext(PSY), c.AddNote(kind="progress", modality="other", text=f"n{i}")
            ),
        )


class TestSnapshotInterval:
    def test_an_apps_interval_does_not_leak_into_later_apps(self) -> None:
        small = CareLogApplication(POPO, snapshot_interval=5)
        default = CareLogApplication(POPO)
        assert small.snapshotting_intervals == {PatientRecord: 5}
        assert default.snapshotting_intervals == {PatientRecord: 50}
        assert CareLogApplication.snapshotting_intervals == {PatientRecord: 50}

    def test_snapshots_are_taken_at_the_instances_interval(self) -> None:
        small = CareLogApplication(POPO, snapshot_interval=5)
        default = CareLogApplication(POPO)
        taken = []
        for app in (small, default):
            pid = registered(app)
            add_notes(app, pid, 9)  # versions 3..11
            assert app.get_record(pid).version == 11
            assert app.snapshots is not None
            taken.append([s.originator_version for s in app.snapshots.get(UUID(pid))])
        assert taken == [[5, 10], []]


class TestRetriesExhausted:
    def test_running_out_of_retries_says_so_and_not_version_minus_one(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app = CareLogApplication(POPO)
        pid = registered(app)
        before = app.recorder.max_notification_id()

        def always_conflicts(*_: Any, **__: Any) -> Any:
            raise IntegrityError("another writer got there first")

        monkeypatch.setattr(services.writing.application, "MAX_RETRIES", 3)
        app.saver = always_conflicts
        with pytest.raises(WriteContentionError) as caught:
            add_notes(app, pid, 1)
        assert isinstance(caught.value, VersionConflictError)  # still HTTP 412
        assert caught.value.message == (
            "Others kept writing to this record while your entry was being saved "
            "(3 attempts): nothing was recorded; please try again."
        )
        assert "-1" not in caught.value.message
        assert app.recorder.max_notification_id() == before


class TestBackgroundSnapshots:
    def test_each_is_the_record_as_it_stood_though_it_moved_on_before_it_was_written(
        self,
    ) -> None:
        """Snapshots are encoded on their own thread, after later commands have changed the
        record (here: held back until all the writes are done)."""
        from domain.plan import PlanState
        from services.writing.snapshotter import Snapshotter

        cached = {**POPO, "AGGREGATE_CACHE_MAXSIZE": "10", "AGGREGATE_CACHE_FASTFORWARD": "y"}
        app = CareLogApplication(cached, snapshot_interval=4)  # one record object, changed on
        assert app.snapshots is not None
        gate = threading.Event()

        def put_when_opened(snapshots: list[Any]) -> None:
            gate.wait(timeout=10)
            app.snapshots.put(snapshots)  # type: ignore[union-attr]

        app.snapshotter = snapshotter = Snapshotter(put_when_opened)
        pid = registered(app)
        for i in range(12):
            add_notes(app, pid, 1)
            note = next(iter(app.get_record(pid).plan.notes.values()))  # the first note
            app.write(
                pid,
                CommandContext(PSY),
                lambda rec, note=note, i=i: rec.correct_entry(
                    CommandContext(PSY),
                    c.CorrectEntry(event_id=note.event_id, fields={"text": f"c{i}"}, reason="r"),
                ),
            )
        gate.set()
        snapshotter.close()
        stream = list(app.events.get(UUID(pid)))
        taken = list(app.snapshots.get(UUID(pid)))
        assert [s.originator_version for s in taken] == list(range(4, len(stream) + 1, 4))
        assert snapshotter.written == len(taken)
        for snapshot in taken:
            state = PlanState()
            for event in stream[: snapshot.originator_version]:
                state.apply(event)
            assert snapshot.state["plan"] == state
