"""The right-of-access export: the designated record set without psychotherapy notes, and
an accounting of disclosures that matches the audit trail."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.errors import NotPermittedError
from services.access.policy import Policy, RequestInfo
from services.bootstrap import CareLog
from services.cli.main import main
from services.interop.right_of_access import build_access_export
from tests.conftest import Team
from tests.fhir_support import check_bundle, of_type
from tests.patient_writes import registration

SECRET = "Session content that only its author may read."


def _info(n: int) -> RequestInfo:
    return RequestInfo(request_id=f"req-{n}", source="127.0.0.1")


@pytest.fixture
def chart(carelog: CareLog, team: Team) -> dict[str, Any]:
    """A patient with a psychotherapy note (and its correction), a progress note, and reads
    by the team, an auditor, someone under emergency access, and someone refused."""
    psy, ther = CommandContext(team.psychiatrist), CommandContext(team.therapist)
    commands = carelog.commands
    pid = commands.register_patient(
        psy,
        registration("MRN-ROA", "Access Patient", "1975-06-07"),
    ).patient_id
    other = commands.register_patient(
        psy,
        registration("MRN-OTHER", "Other Patient", "1975-06-07"),
    ).patient_id
    commands.execute(
        psy, pid, c.AssignCareTeamMember(clinician_id=team.therapist.id, role="therapist")
    )
    note = commands.execute(ther, pid, c.AddNote(kind="psychotherapy", modality="DBT", text=SECRET))
    fix = commands.execute(
        ther,
        pid,
        c.CorrectEntry(
            event_id=note.event_id, fields={"text": SECRET + " Amended."}, reason="typo"
        ),
    )
    progress = commands.execute(
        psy, pid, c.AddNote(kind="progress", modality="supportive", text="Engaged and hopeful.")
    )
    commands.execute(
        CommandContext(team.outsider),
        pid,
        c.GrantEmergencyAccess(reason="Crisis call out of hours"),
    )
    policy = Policy(carelog.app.read_record, carelog.access_log.record)
    policy.read_patient(team.psychiatrist, pid, "plan", _info(1))
    policy.read_patient(team.auditor, pid, "history", _info(2))
    policy.read_patient(team.outsider, pid, "history", _info(3))
    policy.read_patient(team.psychiatrist, other, "plan", _info(4))
    with pytest.raises(NotPermittedError):
        policy.read_patient(team.pharmacist, pid, "plan", _info(5))
    return {
        "pid": pid,
        "hidden": [note.event_id, note.ids["note_id"], fix.event_id],
        "progress": progress.ids["note_id"],
    }


class TestRecordSet:
    def test_holds_progress_notes_and_no_trace_of_psychotherapy_notes(
        self, carelog: CareLog, chart: dict[str, Any]
    ) -> None:
        package = build_access_export(carelog, chart["pid"])
        check_bundle(package["record"])
        text = json.dumps(package)
        for trace in [
            SECRET,
            base64.b64encode(SECRET.encode()).decode()[:20],
            "DBT",
            "psychotherapy",
            *chart["hidden"],
        ]:
            assert trace not in text
        (document,) = of_type(package["record"], "DocumentReference")
        assert document["identifier"][0]["value"] == chart["progress"]
        (patient,) = of_type(package["record"], "Patient")
        assert patient["id"] == package["patient_id"] == chart["pid"]


class TestDisclosures:
    def test_the_accounting_matches_the_audit_trail(
        self, carelog: CareLog, team: Team, chart: dict[str, Any]
    ) -> None:
        package = build_access_export(carelog, chart["pid"])
        trail, _ = carelog.views.audit_trail.entries(
            patient_id=chart["pid"], action="read:*", limit=1000
        )
        assert [
            (d["at"], d["who"]["id"], d["what"], d["request_id"]) for d in package["disclosures"]
        ] == [
            (
                e["at"].isoformat().replace("+00:00", "Z"),
                e["actor"]["id"],
                e["action"].removeprefix("read:"),
                e["request_id"],
            )
            for e in trail
        ]
        assert [(d["who"]["id"], d["what"]) for d in package["disclosures"]] == [
            (team.psychiatrist.id, "plan"),
            (team.auditor.id, "history"),
            (team.outsider.id, "history"),
        ]

    def test_each_disclosure_says_who_and_why(
        self, carelog: CareLog, team: Team, chart: dict[str, Any]
    ) -> None:
        disclosures = build_access_export(carelog, chart["pid"])["disclosures"]
        by_actor = {d["who"]["id"]: d for d in disclosures}
        assert by_actor[team.psychiatrist.id]["why"] == "treatment (care team)"
        assert by_actor[team.psychiatrist.id]["who"]["name"] == "Test psychiatrist"
        assert by_actor[team.auditor.id]["why"] == "audit review"
        emergency = by_actor[team.outsider.id]
        assert emergency["emergency_access"] is True
        assert emergency["why"] == "emergency access: Crisis call out of hours"
        assert team.pharmacist.id not in by_actor  # refused: nothing was disclosed

    @pytest.mark.usefixtures("cli_store")
    def test_the_command_writes_the_package_and_accounts_for_its_own_export(
        self,
        carelog: CareLog,
        chart: dict[str, Any],
        tmp_path: Path,
    ) -> None:
        target = tmp_path / "access.json"
        assert (
            main(
                [
                    "export",
                    "access",
                    chart["pid"],
                    "-o",
                    str(target),
                    "--reason",
                    "patient request of 2026-03-01",
                ]
            )
            == 0
        )
        package = json.loads(target.read_text())
        check_bundle(package["record"])
        assert SECRET not in target.read_text()
        last = package["disclosures"][-1]
        assert (last["who"]["role"], last["what"], last["why"], last["source"]) == (
            "operator",
            "export",
            "patient request of 2026-03-01",
            "cli",
        )
        assert len(package["disclosures"]) == 4

    @pytest.mark.usefixtures("cli_store")
    def test_a_whole_store_log_export_is_a_bulk_disclosure_of_every_patient_then_registered(
        self,
        carelog: CareLog,
        team: Team,
        chart: dict[str, Any],
        tmp_path: Path,
    ) -> None:
        other = carelog.app.find_by_external_id("MRN-OTHER")
        assert (
            main(["export", "log", "-o", str(tmp_path / "one.ndjson"), "--patient", chart["pid"]])
            == 0
        )
        assert (
            main(
                ["export", "log", "-o", str(tmp_path / "log.ndjson"), "--reason", "move to site B"]
            )
            == 0
        )
        later = carelog.commands.register_patient(
            CommandContext(team.psychiatrist),
            registration("MRN-LATER", "Later Patient", "1975-06-07"),
        ).patient_id

        def bulk(patient_id: str) -> list[tuple[str, str, str]]:
            return [
                (d["who"]["role"], d["what"], d["why"])
                for d in build_access_export(carelog, patient_id)["disclosures"]
                if d["bulk"]
            ]

        whole = [("operator", "log (every patient's record)", "move to site B")]
        assert bulk(chart["pid"]) == bulk(str(other)) == whole
        assert bulk(later) == []  # not in the store when it was exported
        last = build_access_export(carelog, chart["pid"])["disclosures"][-2:]
        assert [(d["what"], d["bulk"]) for d in last] == [
            ("log", False),  # the patient's own log export, then the store's
            ("log (every patient's record)", True),
        ]
        assert [d["what"] for d in build_access_export(carelog, str(other))["disclosures"]] == [
            "plan",
            "log (every patient's record)",
        ]
