"""The audit trail: exactly one entry per event and per recorded access, reads and denied
attempts beside writes, emergency access flagged, and never any clinical text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from domain import commands as c
from domain.command_context import CommandContext
from projections.feed import is_ignored
from services.bootstrap import CareLog
from tests.conftest import Team
from tests.integration.views_support import note, register, team_patient

SECRET = "The patient spoke about the accident (psychotherapy text)"


def all_entries(carelog: CareLog, **filters: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    cursor = None
    while True:
        page, cursor = carelog.views.audit_trail.entries(after=cursor, limit=7, **filters)  # type: ignore[arg-type]
        out += page
        if cursor is None:
            return out


def read(
    carelog: CareLog,
    who: object,
    pid: str | None,
    what: str,
    *,
    allowed: bool = True,
    flagged: bool = False,
) -> int:
    return carelog.access_log.record(
        actor_id=who.id,
        actor_role=str(who.role),
        patient_id=pid,  # type: ignore[attr-defined]
        what=what,
        request_id=f"req-{what}",
        source="192.0.2.7",
        allowed=allowed,
        flagged=flagged,
    )


class TestOneEntryEach:
    def test_every_event_and_every_access_has_exactly_one_entry(
        self, carelog: CareLog, team: Team
    ) -> None:
        pids = [register(carelog, team, f"MRN-{n}") for n in range(2)]
        accesses = []
        for n in range(5):
            note(carelog, team, pids[n % 2])
            accesses.append(read(carelog, team.psychiatrist, pids[n % 2], "plan"))
        carelog.views.catch_up()
        note(carelog, team, pids[0])
        accesses.append(read(carelog, team.outsider, pids[0], "history", allowed=False))
        carelog.views.catch_up()
        carelog.views.catch_up()

        entries = all_entries(carelog)
        notifications = carelog.app.recorder.select_notifications(1, 10_000)
        expected = [n.id for n in notifications if not is_ignored(n.topic)]
        assert sorted(e["position"] for e in entries if e["kind"] == "event") == expected
        assert sorted(e["position"] for e in entries if e["kind"] == "access") == accesses
        assert len({e["id"] for e in entries}) == len(entries)

    def test_reads_and_denied_attempts_sit_beside_the_writes(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-R")
        read(carelog, team.psychiatrist, pid, "plan")
        read(carelog, team.outsider, pid, "plan", allowed=False)
        carelog.views.catch_up()

        entries = all_entries(carelog, patient_id=pid)
        assert [e["action"] for e in entries] == [
            "PatientRegistered",
            "CareTeamMemberAssigned",
            "read:plan",
            "denied:plan",
        ]
        denied = entries[-1]
        assert denied["actor"] == {"id": team.outsider.id, "role": "psychiatrist"}
        assert (denied["allowed"], denied["source"], denied["request_id"]) == (
            False,
            "192.0.2.7",
            "req-plan",
        )
        registered = entries[0]
        assert registered["request_id"]  # the write's correlation id
        assert registered["effective_at"] is not None
        assert registered["at"] is not None

    def test_filters_by_actor_action_and_time(self, carelog: CareLog, team: Team) -> None:
        pid = register(carelog, team, "MRN-F")
        note(carelog, team, pid)
        read(carelog, team.therapist, pid, "history")
        carelog.views.catch_up()
        audit = carelog.views.audit_trail

        by_therapist, _ = audit.entries(actor_id=team.therapist.id)
        assert [e["action"] for e in by_therapist] == ["read:history"]
        reads, _ = audit.entries(action="read:*")
        assert [e["action"] for e in reads] == ["read:history"]
        notes, _ = audit.entries(action="NoteAdded", patient_id=pid)
        assert len(notes) == 1
        future = datetime.now(UTC) + timedelta(days=1)
        assert audit.entries(since=future) == ([], None)
        assert len(audit.entries(until=future)[0]) == 4


class TestEmergencyAccess:
    def test_the_grant_the_writes_and_the_reads_under_it_are_flagged(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-E")
        note(carelog, team, pid, "routine")
        outsider = CommandContext(team.outsider)
        carelog.commands.execute(
            outsider, pid, c.GrantEmergencyAccess(reason="unconscious in the emergency department")
        )
        carelog.commands.execute(
            CommandContext(team.outsider),
            pid,
            c.AddNote(kind="progress", modality="other", text="seen in ED"),
        )
        read(carelog, team.outsider, pid, "plan", flagged=True)
        read(carelog, team.psychiatrist, pid, "plan")
        carelog.views.catch_up()

        flagged = [(e["action"], e["actor"]["id"]) for e in all_entries(carelog) if e["flagged"]]
        assert flagged == [
            ("EmergencyAccessGranted", team.outsider.id),
            ("NoteAdded", team.outsider.id),
            ("read:plan", team.outsider.id),
        ]
        first = all_entries(carelog, order="flagged_first")
        assert [e["flagged"] for e in first] == [True] * 3 + [False] * (len(first) - 3)
        assert sorted(e["id"] for e in first) == sorted(e["id"] for e in all_entries(carelog))
        grant, written = first[0], first[1]
        for entry in (grant, written):  # the reviewer sees why the glass was broken
            assert entry["details"]["emergency_access"]["reason"] == (  # type: ignore[index]
                "unconscious in the emergency department"
            )
            assert entry["details"]["emergency_access"]["expires_at"]  # type: ignore[index]


class TestPrivacy:
    def test_no_note_text_or_reason_reaches_the_audit_trail(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = team_patient(carelog, team, "MRN-S")
        therapist = CommandContext(team.therapist)
        written = carelog.commands.execute(
            therapist, pid, c.AddNote(kind="psychotherapy", modality="CBT", text=SECRET)
        )
        carelog.commands.execute(
            therapist,
            pid,
            c.CorrectEntry(
                event_id=written.event_id,
                fields={"text": SECRET + " (corrected)"},
                reason="Secret reason for correcting",
            ),
        )
        carelog.views.catch_up()

        trail = json.dumps(carelog.views.audit_trail.dump(), default=str)
        assert "psychotherapy text" not in trail
        assert "Secret reason" not in trail
        [added] = [e for e in all_entries(carelog) if e["action"] == "NoteAdded"]
        assert added["details"]["kind"] == "psychotherapy"
        [corrected] = [e for e in all_entries(carelog) if e["action"] == "EntryCorrected"]
        assert corrected["details"]["fields"] == ["text"]
        views_db = json.dumps(carelog.views.current_plan.dump(), default=str) + json.dumps(
            carelog.views.team_dashboard.dump(), default=str
        )
        assert "psychotherapy text" not in views_db
