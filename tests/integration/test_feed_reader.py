"""The HTTP feeds' reader on both stores: pages by position, live follow, per-role content."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.feeds.feed import FeedReader
from tests import synthetic_patients as synthetic
from tests.conftest import Team

SECRET = "SYNTHETIC-NOTE-TEXT"


def register(carelog: CareLog, team: Team, mrn: str) -> str:
    ctx = CommandContext(team.psychiatrist)
    pid = synthetic.register(carelog, ctx, mrn, "Test Patient", "1985-05-05")
    carelog.commands.execute(
        ctx, pid, c.AssignCareTeamMember(clinician_id=team.therapist.id, role="therapist")
    )
    return pid


def prescribe(carelog: CareLog, team: Team, pid: str) -> str:
    return synthetic.prescribe(carelog, CommandContext(team.psychiatrist), pid)


def change_dose(carelog: CareLog, team: Team, pid: str, order_id: str, amount: float) -> int:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist),
        pid,
        c.ChangeDose(order_id=order_id, dose=Dose(amount, "mg"), reason="titration"),
    ).position


def note(carelog: CareLog, team: Team, pid: str, kind: str) -> None:
    carelog.commands.execute(
        CommandContext(team.therapist),
        pid,
        c.AddNote(kind=kind, modality="CBT", text=f"{SECRET} {kind}"),
    )


class TestFeedPage:
    @pytest.mark.cipher
    def test_a_page_holds_the_roles_messages_for_the_callers_patients_in_order(
        self, carelog: CareLog, team: Team
    ) -> None:
        mine, other = register(carelog, team, "MRN-A"), register(carelog, team, "MRN-B")
        order = prescribe(carelog, team, mine)
        prescribe(carelog, team, other)
        change_dose(carelog, team, mine, order, 100)

        items, _ = carelog.feed.page(role="psychiatrist", patient_ids={mine}, after=0, limit=100)

        assert {i["subject"] for i in items} == {mine}
        positions = [i["data"]["position"] for i in items]
        assert positions == sorted(positions)
        types = [i["type"] for i in items]
        assert "carelog.medication.prescribed.v1" in types
        assert "carelog.medication.dose-changed.v1" in types

    def test_next_after_passes_over_messages_the_caller_may_not_see(
        self, carelog: CareLog, team: Team
    ) -> None:
        mine, other = register(carelog, team, "MRN-A"), register(carelog, team, "MRN-B")
        start = carelog.app.recorder.max_notification_id()
        prescribe(carelog, team, other)
        head = carelog.app.recorder.max_notification_id()

        items, next_after = carelog.feed.page(
            role="psychiatrist", patient_ids={mine}, after=start, limit=10
        )

        assert items == []
        assert next_after == head

    def test_small_pages_deliver_every_message_exactly_once(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        order = prescribe(carelog, team, pid)
        for amount in (75, 100, 125, 150):
            change_dose(carelog, team, pid, order, amount)
        everything, _ = carelog.feed.page(role="pharmacist", patient_ids={pid}, after=0, limit=1000)

        paged: list[dict[str, Any]] = []
        after = 0
        while True:
            items, after = carelog.feed.page(
                role="pharmacist", patient_ids={pid}, after=after, limit=2
            )
            if not items:
                break
            paged += items
        assert [i["id"] for i in paged] == [i["id"] for i in everything]
        assert len(everything) >= 7

    def test_no_role_sees_note_text_or_a_psychotherapy_note(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        note(carelog, team, pid, "progress")
        note(carelog, team, pid, "psychotherapy")
        for role in ("psychiatrist", "therapist", "pharmacist"):
            items, _ = carelog.feed.page(role=role, patient_ids={pid}, after=0, limit=100)
            assert SECRET not in json.dumps(items)
            kinds = [i["data"]["kind"] for i in items if i["type"] == "carelog.note.added.v1"]
            assert "psychotherapy" not in kinds
            assert kinds == ([] if role == "pharmacist" else ["progress"])

    @pytest.mark.parametrize("role", ["auditor", "admin"])
    def test_roles_without_a_feed_get_empty_pages_that_still_advance(
        self, carelog: CareLog, team: Team, role: str
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        prescribe(carelog, team, pid)
        items, next_after = carelog.feed.page(role=role, patient_ids={pid}, after=0, limit=10)
        assert items == []
        assert next_after == carelog.app.recorder.max_notification_id()


def follow(
    reader: FeedReader,
    role: str,
    patients: set[str] | Any,
    after: int,
    stop: threading.Event,
    heartbeat: float = 15.0,
) -> Iterator[dict[str, Any] | None]:
    ids = patients if callable(patients) else (lambda: patients)
    return reader.follow(role=role, patient_ids_fn=ids, after=after, stop=stop, heartbeat=heartbeat)


def collect(
    stream: Iterator[dict[str, Any] | None], count: int, into: list[dict[str, Any]]
) -> threading.Thread:
    def run() -> None:
        for item in stream:
            if item is not None:
                into.append(item)
                if len(into) == count:
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class TestFeedFollow:
    def test_a_follower_receives_a_dose_change_written_after_it_started(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        order = prescribe(carelog, team, pid)
        stop = threading.Event()
        received: list[dict[str, Any]] = []
        head = int(carelog.app.recorder.max_notification_id() or 0)
        thread = collect(follow(carelog.feed, "therapist", {pid}, head, stop), 1, received)

        position = change_dose(carelog, team, pid, order, 100)

        thread.join(timeout=30)
        stop.set()
        assert [m["type"] for m in received] == ["carelog.medication.dose-changed.v1"]
        assert received[0]["data"]["position"] == position
        assert received[0]["data"]["dose"] == {"amount": 100, "unit": "mg"}
        assert "reason" not in received[0]["data"]

    def test_resuming_from_the_last_position_seen_loses_nothing(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        order = prescribe(carelog, team, pid)
        first: list[dict[str, Any]] = []
        stop = threading.Event()
        collect(follow(carelog.feed, "psychiatrist", {pid}, 0, stop), 2, first).join(30)
        stop.set()
        change_dose(carelog, team, pid, order, 100)  # written while disconnected
        last_seen = first[-1]["data"]["position"]
        rest, _ = carelog.feed.page(
            role="psychiatrist", patient_ids={pid}, after=last_seen, limit=1000
        )

        resumed: list[dict[str, Any]] = []
        stop = threading.Event()
        collect(
            follow(carelog.feed, "psychiatrist", {pid}, last_seen, stop), len(rest), resumed
        ).join(30)
        stop.set()

        everything, _ = carelog.feed.page(
            role="psychiatrist", patient_ids={pid}, after=0, limit=1000
        )
        assert [m["id"] for m in first + resumed] == [m["id"] for m in everything]
        assert "carelog.medication.dose-changed.v1" in [m["type"] for m in resumed]

    def test_a_quiet_stream_sends_heartbeats(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team, "MRN-A")
        stop = threading.Event()
        head = int(carelog.app.recorder.max_notification_id() or 0)
        stream = follow(carelog.feed, "psychiatrist", {pid}, head, stop, heartbeat=0.05)
        ticks = [next(stream) for _ in range(3)]
        stop.set()
        assert ticks == [None, None, None]

    def test_a_clinician_removed_from_the_team_stops_receiving_that_patient(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-A")
        order = prescribe(carelog, team, pid)
        on_team = {pid}
        head = int(carelog.app.recorder.max_notification_id() or 0)
        stop = threading.Event()
        stream = follow(
            carelog.feed, "psychiatrist", lambda: set(on_team), head, stop, heartbeat=0.05
        )
        change_dose(carelog, team, pid, order, 100)
        before = list(iter(lambda: next(stream), None))  # until caught up (a heartbeat)
        on_team.clear()
        change_dose(carelog, team, pid, order, 150)
        after = [next(stream) for _ in range(3)]
        stop.set()
        assert "carelog.medication.dose-changed.v1" in [m["type"] for m in before]
        assert after == [None, None, None]

    def test_setting_stop_ends_the_stream(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team, "MRN-A")
        stop = threading.Event()
        stream = follow(carelog.feed, "psychiatrist", {pid}, 10**6, stop, heartbeat=0.05)
        assert next(stream) is None
        stop.set()
        assert list(stream) == []
