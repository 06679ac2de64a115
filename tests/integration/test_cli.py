"""The ``carelog`` command as an operator uses it: users and the demo."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.cli.demo_data import seed
from tests.cli_process import carelog_process


def carelog_cli(*args: str, store: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CARELOG_DATABASE_URL": store,
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    return carelog_process(*args, env=env)


@pytest.mark.served
class TestUsers:
    def test_users_add_prints_one_json_line_with_a_working_token(
        self, store: str, tmp_path: Path, carelog: CareLog
    ) -> None:
        result = carelog_cli(
            "users",
            "add",
            "Dr Test",
            "--role",
            "pharmacist",
            "--prescriber",
            store=store,
            tmp_path=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1
        user = json.loads(lines[0])
        assert {"id", "name", "role", "token"} <= set(user)
        assert (user["name"], user["role"], user["prescriber"]) == ("Dr Test", "pharmacist", True)
        member = carelog.staff.authenticate(user["token"])
        assert member is not None
        assert member.id == user["id"]
        listed = carelog_cli("users", "list", store=store, tmp_path=tmp_path)
        assert user["token"] not in listed.stdout
        assert json.loads(listed.stdout.splitlines()[0])["id"] == user["id"]

    def test_unknown_role_is_refused_with_a_message(self, store: str, tmp_path: Path) -> None:
        result = carelog_cli(
            "users", "add", "X", "--role", "surgeon", store=store, tmp_path=tmp_path
        )
        assert result.returncode != 0
        assert "surgeon" in result.stderr


class TestDemo:
    def test_demo_staff_ids_differ_between_installs_and_stay_on_a_rerun(
        self, carelog: CareLog, tmp_path: Path
    ) -> None:
        first = seed(carelog, patients=0, show_progress=False)["staff"]
        again = seed(carelog, patients=0, show_progress=False)["staff"]
        assert {r: e["id"] for r, e in first.items()} == {r: e["id"] for r, e in again.items()}
        other = CareLog(
            carelog.config.with_(
                database_url=f"sqlite:///{tmp_path / 'other-install.db'}", views_url=None
            )
        )
        try:
            elsewhere = seed(other, patients=0, show_progress=False)["staff"]
        finally:
            other.close()
        assert set(elsewhere) == set(first)
        for role in first:
            assert elsewhere[role]["id"] != first[role]["id"], role

    def test_demo_seeds_idempotently_with_both_kinds_of_notes_and_a_correction(
        self, carelog: CareLog
    ) -> None:
        first = seed(carelog, patients=3, show_progress=False)
        head = carelog.app.recorder.max_notification_id()
        second = seed(carelog, patients=3, show_progress=False)
        assert (first["created"], second["created"]) == (3, 0)
        assert carelog.app.recorder.max_notification_id() == head
        assert first["patients"] == second["patients"]
        token = second["staff"]["psychiatrist"]["token"]
        assert carelog.staff.authenticate(token) is not None
        kinds = set()
        corrected = late = False
        for pid in second["patients"]:
            for event in carelog.history.events(pid):
                name = type(event).__name__
                if name == "NoteAdded":
                    kinds.add(event.kind)
                corrected |= name == "EntryCorrected"
                late |= (event.timestamp - event.effective_at).days >= 1
        assert kinds == {"progress", "psychotherapy"}
        assert corrected
        assert late


class TestDemoStaysPut:
    """Re-running the demo (as every ``make run`` does) keeps the printed tokens working."""

    def test_a_rerun_prints_the_same_tokens_and_they_still_sign_in(self, carelog: CareLog) -> None:
        first = seed(carelog, patients=0, show_progress=False)["staff"]
        again = seed(carelog, patients=0, show_progress=False)["staff"]
        assert {r: e["token"] for r, e in again.items()} == {
            r: e["token"] for r, e in first.items()
        }
        for entry in again.values():
            member = carelog.staff.authenticate(entry["token"])
            assert member is not None
            assert member.id == entry["id"]

    def test_rotate_tokens_issues_new_ones_and_the_old_stop_working(self, carelog: CareLog) -> None:
        first = seed(carelog, patients=0, show_progress=False)["staff"]
        rotated = seed(carelog, patients=0, show_progress=False, rotate_tokens=True)["staff"]
        for role, entry in rotated.items():
            assert entry["id"] == first[role]["id"]
            assert entry["token"] != first[role]["token"]
            assert carelog.staff.authenticate(first[role]["token"]) is None
            assert carelog.staff.authenticate(entry["token"]) is not None
        again = seed(carelog, patients=0, show_progress=False)["staff"]
        assert again["psychiatrist"]["token"] == rotated["psychiatrist"]["token"]

    def test_the_tokens_file_is_private_and_an_exposed_one_is_not_trusted(
        self, carelog: CareLog
    ) -> None:
        from services.access.demo_tokens import tokens_path

        first = seed(carelog, patients=0, show_progress=False)["staff"]
        path = tokens_path(carelog.config)
        assert path.stat().st_mode & 0o777 == 0o600
        assert json.loads(path.read_text())["therapist"] == first["therapist"]["token"]
        path.chmod(0o644)  # anyone on the machine may have read it: its tokens are spent
        again = seed(carelog, patients=0, show_progress=False)["staff"]
        assert again["therapist"]["token"] != first["therapist"]["token"]
        assert carelog.staff.authenticate(first["therapist"]["token"]) is None
        assert path.stat().st_mode & 0o777 == 0o600

    def test_a_token_rotated_by_hand_is_replaced_not_printed_stale(self, carelog: CareLog) -> None:
        first = seed(carelog, patients=0, show_progress=False)["staff"]
        carelog.staff.rotate_token(first["pharmacist"]["id"])
        again = seed(carelog, patients=0, show_progress=False)["staff"]
        assert carelog.staff.authenticate(again["pharmacist"]["token"]) is not None
        assert again["psychiatrist"]["token"] == first["psychiatrist"]["token"]


@pytest.mark.store_independent
class TestDemoIsCoherent:
    def test_the_demo_plans_raise_no_alert_but_one_recent_dated_item_9_answer(
        self, carelog: CareLog
    ) -> None:
        """Demo plans must not contradict the rules they run under: no dose above its own
        maximum, no unnamed formulation; the one open alert is a suicide-risk answer from
        yesterday, dated in its message."""
        result = seed(carelog, patients=20, show_progress=False)
        now = datetime.now(UTC)
        open_alerts = []
        for number, pid in enumerate(result["patients"], start=1):
            for alert in carelog.app.get_record(pid).plan.alerts.values():
                if alert.status != "open":
                    continue
                if alert.kind == "reassessment_due":
                    # the date of the next PHQ-9 is the plan itself, never overdue in the demo
                    assert alert.due_at > now, alert.message
                    continue
                open_alerts.append((number, alert.rule_id, alert.message))
        assert [(n, rule) for n, rule, _ in open_alerts] == [(3, "ASSESS-PHQ9-ITEM9")]
        assert "today" not in open_alerts[0][2]
        assert "scored 1 on 20" in open_alerts[0][2]

    @pytest.mark.served
    def test_users_list_shows_who_may_prescribe_as_a_clinician_reads_it(
        self, store: str, tmp_path: Path, carelog: CareLog
    ) -> None:
        seed(carelog, patients=0, show_progress=False)
        listed = carelog_cli("users", "list", store=store, tmp_path=tmp_path)
        flags = {
            json.loads(line)["role"]: json.loads(line)["prescriber"]
            for line in listed.stdout.splitlines()
        }
        assert flags == {
            "psychiatrist": True,
            "therapist": False,
            "pharmacist": False,  # no collaborative practice agreement in the demo
            "auditor": False,
            "admin": False,
        }
