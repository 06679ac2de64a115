"""The access log: numbered, append-only, apart from the patient streams."""

from __future__ import annotations

import threading

import pytest

from services.bootstrap import CareLog
from tests.conftest import Team
from tests.integration.threads import in_threads


def therapist_reads_the_plan(carelog: CareLog, team: Team) -> int:
    """The therapist's read of patient p-1's plan, recorded; its position."""
    return carelog.access_log.record(
        actor_id=team.therapist.id,
        actor_role="therapist",
        patient_id="p-1",
        what="plan",
        request_id="r-1",
        source="10.0.0.1",
    )


class TestAccessLog:
    def test_entries_are_numbered_in_order_and_read_back_by_position(
        self, carelog: CareLog, team: Team
    ) -> None:
        log = carelog.access_log
        first = therapist_reads_the_plan(carelog, team)
        second = log.record_access(
            team.outsider,
            "p-1",
            "history",
            "r-2",
            "10.0.0.2",
            allowed=False,
            reason="not on the care team",
        )
        assert second > first
        assert log.head() == second
        entries = log.read_after(first - 1, 10)
        assert [(e["position"], e["what"], e["allowed"], e["actor_id"]) for e in entries] == [
            (first, "plan", 1, team.therapist.id),
            (second, "history", 0, team.outsider.id),
        ]
        assert entries[1]["reason"] == "not on the care team"
        assert entries[0]["at"]  # server time
        assert [e["position"] for e in log.for_patient("p-1")] == [first, second]

    def test_entries_can_be_neither_changed_nor_deleted(self, carelog: CareLog, team: Team) -> None:
        therapist_reads_the_plan(carelog, team)
        with pytest.raises(Exception, match="append-only"):
            carelog.db.execute("UPDATE access_log SET allowed = 0")
        with pytest.raises(Exception, match="append-only"):
            carelog.db.execute("DELETE FROM access_log")
        assert carelog.access_log.head() == 1

    def test_recording_a_read_writes_nothing_to_the_event_store(
        self, carelog: CareLog, team: Team
    ) -> None:
        before = carelog.app.recorder.max_notification_id()
        carelog.access_log.record(
            actor_id=team.therapist.id,
            actor_role="therapist",
            patient_id=None,
            what="patients",
            request_id="r-1",
            source="10.0.0.1",
        )
        assert carelog.app.recorder.max_notification_id() == before

    def test_a_second_process_opening_the_log_keeps_what_is_there(
        self, carelog: CareLog, team: Team
    ) -> None:
        position = carelog.access_log.record(
            actor_id=None,
            actor_role=None,
            patient_id=None,
            what="authenticate",
            request_id="r-1",
            source="10.0.0.9",
            allowed=False,
        )
        other = CareLog(carelog.config)
        try:
            assert other.access_log.head() == position
        finally:
            other.close()


class TestRecordMany:
    def test_a_list_of_reads_lands_in_one_go_in_order(self, carelog: CareLog, team: Team) -> None:
        entries = [
            {
                "actor_id": team.therapist.id,
                "actor_role": "therapist",
                "patient_id": f"p-{n}",
                "what": "patients",
                "request_id": "r-list",
                "source": "10.0.0.1",
            }
            for n in range(3)
        ]
        positions = carelog.access_log.record_many(entries)
        assert positions == sorted(positions)
        assert len(set(positions)) == 3
        carelog.views.catch_up()
        page, _ = carelog.views.audit_trail.entries(action="read:patients")
        assert [e["patient_id"] for e in page] == ["p-0", "p-1", "p-2"]


class TestConcurrentReads:
    def test_reads_recorded_at_once_from_many_threads_each_get_their_own_entries(
        self, carelog: CareLog, team: Team
    ) -> None:
        """Callers waiting for the lock are appended together by whoever gets it next:
        each must still get back exactly its own entries, all committed and chained."""
        log = carelog.access_log
        start = threading.Barrier(8)
        got: dict[str, list[int]] = {}

        def reader(n: int) -> None:
            start.wait()
            for i in range(15):
                request = f"r-{n}-{i}"
                if i % 5 == 4:  # a list page: several entries in one call
                    got[request] = log.record_many(
                        [
                            {
                                "actor_id": team.therapist.id,
                                "actor_role": "therapist",
                                "patient_id": f"p-{n}-{k}",
                                "what": "patients",
                                "request_id": request,
                                "source": "10.0.0.1",
                            }
                            for k in range(3)
                        ]
                    )
                else:
                    got[request] = [
                        log.record(
                            actor_id=team.therapist.id,
                            actor_role="therapist",
                            patient_id=f"p-{n}",
                            what="plan",
                            request_id=request,
                            source="10.0.0.1",
                        )
                    ]

        assert not in_threads(reader, 8)
        entries = {e["position"]: e for e in log.read_after(0, 10_000)}
        positions = [p for ps in got.values() for p in ps]
        assert len(positions) == len(set(positions)) == 8 * (12 + 3 * 3)
        assert sorted(entries) == sorted(positions)  # nothing else, nothing lost
        for request, mine in got.items():
            assert {entries[p]["request_id"] for p in mine} == {request}
        assert mine == sorted(mine)  # a call's entries in the order it gave them
        result = carelog.integrity.verify()
        assert result.ok, result.problems
