"""The ``carelog`` command as an operator uses it: users and the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.bootstrap import CareLog
from services.demo import seed


def carelog_cli(*args: str, store: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CARELOG_DATABASE_URL": store,
        "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
    }
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
