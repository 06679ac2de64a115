"""The access log: numbered, append-only, apart from the patient streams."""

from __future__ import annotations

import pytest

from services.bootstrap import CareLog
from tests.conftest import Team


class TestAccessLog:
    def test_entries_are_numbered_in_order_and_read_back_by_position(
        self, carelog: CareLog, team: Team
    ) -> None:
        log = carelog.access_log
        first = log.record(
            actor_id=team.therapist.id,
            actor_role="therapist",
            patient_id="p-1",
            what="plan",
            request_id="r-1",
            source="10.0.0.1",
        )
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
        carelog.access_log.record(
            actor_id=team.therapist.id,
            actor_role="therapist",
            patient_id="p-1",
            what="plan",
            request_id="r-1",
            source="10.0.0.1",
        )
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
