"""``carelog backup DEST``: a copy taken while clinicians keep writing restores into a fresh
folder where ``carelog verify`` passes and the views agree with a rebuild from the log; a
used DEST and a PostgreSQL store get clear answers."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.cli_process import carelog_process
from tests.conftest import make_team
from tests.integration.views_support import dumps, fresh_replay
from tests.patient_writes import prescription, register

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not

REPO = Path(__file__).parents[2]
DEADLINE = 120.0


def carelog_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return carelog_process(*args, env={**os.environ, **env}, timeout=300, cwd=REPO)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Writer:
    """Clinicians at work on threads of this process: patients registered, prescribed and
    noted, the views following the log and checkpoints being signed, until stopped."""

    def __init__(self, carelog: CareLog) -> None:
        self.carelog = carelog
        self.team = make_team(carelog)
        self.writes = 0
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._guard(self._write), daemon=True),
            threading.Thread(target=self._guard(self._follow), daemon=True),
            threading.Thread(target=self._guard(self._sign), daemon=True),
        ]

    def _guard(self, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)
                self.stop.set()

        return run

    def _write(self) -> None:
        ctx = CommandContext(self.team.psychiatrist)
        n = 0
        while not self.stop.is_set():
            pid = register(self.carelog, ctx, f"MRN-BK-{n}", f"Synthetic {n}")
            self.carelog.commands.execute(ctx, pid, prescription())
            self.carelog.commands.execute(
                ctx, pid, c.AddNote(kind="progress", modality="supportive", text=f"visit {n}")
            )
            n += 1
            self.writes += 3

    def _follow(self) -> None:
        while not self.stop.is_set():
            self.carelog.views.catch_up()

    def _sign(self) -> None:
        while not self.stop.wait(0.05):
            self.carelog.integrity.checkpoint()

    def __enter__(self) -> Writer:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def sqlite_config(folder: Path) -> Config:
    return Config(
        database_url=f"sqlite:///{folder / 'carelog.db'}",
        checkpoint_dir=str(folder / "checkpoints"),  # not the default: restored beside
        run_projections=False,
        group_commit_ms=0,
        secret_key="test-secret",
        checkpoint_interval=0,
    )


def create_store(config: Config) -> None:
    carelog = CareLog(config)
    try:
        team = make_team(carelog)
        register(carelog, CommandContext(team.psychiatrist), "MRN-BK", "Synthetic")
    finally:
        carelog.close()


def restore(backup: Path, target: Path) -> Path:
    """The README's drill: copy the backup's files into the (empty) data folder."""
    shutil.copytree(backup, target)
    (target / "manifest.json").unlink()
    return target / "carelog.db"


class TestBackupUnderWrites:
    def test_a_backup_taken_while_clinicians_write_restores_and_verifies(
        self, tmp_path: Path
    ) -> None:
        config = sqlite_config(tmp_path / "live")
        carelog = CareLog(config)
        env = {
            "CARELOG_DATABASE_URL": config.database_url,
            "CARELOG_CHECKPOINT_DIR": str(config.checkpoint_dir),
            "CARELOG_RUN_PROJECTIONS": "0",
        }
        public = carelog_cli("keys", "public", env=env)
        assert public.returncode == 0, public.stderr
        public_key = tmp_path / "signing.pub"
        public_key.write_text(public.stdout.split("\n", 1)[1])  # after "key id: ..."
        backup = tmp_path / "backups" / "monday"
        try:
            with Writer(carelog) as writer:
                wait_until(lambda: writer.writes >= 30 or bool(writer.errors), "writes")
                before = writer.writes
                taken = carelog_cli("backup", str(backup), env=env)
                after = writer.writes
                wait_until(lambda: writer.writes >= after + 30 or bool(writer.errors), "more")
            assert not writer.errors, writer.errors
            final_head = int(carelog.app.recorder.max_notification_id() or 0)
        finally:
            carelog.close()

        assert taken.returncode == 0, taken.stderr
        manifest = json.loads((backup / "manifest.json").read_text())
        events_at_backup = manifest["positions"]["events"]
        assert before <= events_at_backup < final_head  # taken mid-stream, not at either end
        assert manifest["positions"]["checkpoints"] >= 1
        self.assert_private_and_intact(backup, manifest)

        restored_db = restore(backup, tmp_path / "restored")
        restored_env = {
            "CARELOG_DATABASE_URL": f"sqlite:///{restored_db}",
            "CARELOG_RUN_PROJECTIONS": "0",
            # a new machine: no signer's record of checkpoints signed after the backup
            "XDG_CONFIG_HOME": str(tmp_path / "new-machine"),
        }
        verified = carelog_cli("verify", "--public-key", str(public_key), env=restored_env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "ok" in verified.stdout
        status = carelog_cli("projections", "status", "--json", env=restored_env)
        assert status.returncode == 0, status.stderr
        assert all(v["position"] <= events_at_backup for v in json.loads(status.stdout)["views"])

        restored = CareLog(sqlite_config(tmp_path / "restored").with_(checkpoint_dir=None))
        try:
            assert restored.app.recorder.max_notification_id() == events_at_backup
            restored.views.catch_up()
            assert dumps(restored.views) == fresh_replay(restored, tmp_path / "replay")
        finally:
            restored.close()

    @staticmethod
    def assert_private_and_intact(backup: Path, manifest: dict[str, Any]) -> None:
        assert stat.S_IMODE(backup.stat().st_mode) == 0o700
        listed = {entry["path"] for entry in manifest["files"]}
        assert {"carelog.db", "carelog-views.db"} <= listed
        assert any(p.startswith("carelog.db.checkpoints/checkpoint-") for p in listed)
        for entry in manifest["files"]:
            path = backup / entry["path"]
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, entry["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        on_disk = {str(p.relative_to(backup)) for p in backup.rglob("*") if p.is_file()} - {
            "manifest.json"
        }
        assert on_disk == listed  # nothing unlisted (no -wal/-shm, no lock file)


class TestBackupRefusals:
    def test_a_destination_that_is_not_empty_is_refused_and_left_alone(
        self, tmp_path: Path
    ) -> None:
        config = sqlite_config(tmp_path / "live")
        create_store(config)
        dest = tmp_path / "used"
        dest.mkdir()
        (dest / "keep.txt").write_text("an earlier backup")
        result = carelog_cli(
            "backup",
            str(dest),
            env={"CARELOG_DATABASE_URL": config.database_url, "CARELOG_RUN_PROJECTIONS": "0"},
        )
        assert result.returncode == 2
        assert "exists and is not empty" in result.stderr
        assert [p.name for p in dest.iterdir()] == ["keep.txt"]

    def test_an_empty_destination_folder_is_used(self, tmp_path: Path) -> None:
        config = sqlite_config(tmp_path / "live")
        create_store(config)
        dest = tmp_path / "empty"
        dest.mkdir()
        result = carelog_cli(
            "backup",
            str(dest),
            env={
                "CARELOG_DATABASE_URL": config.database_url,
                "CARELOG_CHECKPOINT_DIR": str(config.checkpoint_dir),
            },
        )
        assert result.returncode == 0, result.stderr
        assert (dest / "manifest.json").is_file()

    def test_a_missing_store_is_named_and_nothing_is_created(self, tmp_path: Path) -> None:
        result = carelog_cli(
            "backup",
            str(tmp_path / "dest"),
            env={"CARELOG_DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'carelog.db'}"},
        )
        assert result.returncode == 2
        assert "there is no event store" in result.stderr
        assert not (tmp_path / "dest").exists()
        assert not (tmp_path / "absent").exists()

    def test_a_postgresql_store_is_told_to_use_base_backups_and_wal_archiving(
        self, tmp_path: Path
    ) -> None:
        result = carelog_cli(
            "backup",
            str(tmp_path / "dest"),
            env={"CARELOG_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/carelog"},
        )
        assert result.returncode == 2
        assert "pg_basebackup" in result.stderr
        assert "WAL archiving" in result.stderr
        assert not (tmp_path / "dest").exists()


class TestRestoreCommand:
    @staticmethod
    def backed_up(tmp_path: Path) -> tuple[Path, dict[str, str]]:
        config = sqlite_config(tmp_path / "live")
        create_store(config)
        env = {
            "CARELOG_DATABASE_URL": config.database_url,
            "CARELOG_CHECKPOINT_DIR": str(config.checkpoint_dir),
        }
        assert carelog_cli("checkpoint", env=env).returncode == 0
        backup = tmp_path / "backup"
        taken = carelog_cli("backup", str(backup), env=env)
        assert taken.returncode == 0, taken.stderr
        return backup, env

    def test_a_backup_is_put_back_where_the_configuration_says_and_verified(
        self, tmp_path: Path
    ) -> None:
        backup, _ = self.backed_up(tmp_path)
        target = tmp_path / "new-site"
        env = {
            "CARELOG_DATABASE_URL": f"sqlite:///{target / 'data' / 'store.db'}",
            "CARELOG_VIEWS_URL": f"sqlite:///{target / 'views' / 'views.db'}",
            "CARELOG_CHECKPOINT_DIR": str(target / "signed"),
        }
        result = carelog_cli("restore", str(backup), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "carelog verify: ok" in result.stdout
        manifest = json.loads((backup / "manifest.json").read_text())
        assert json.loads(result.stdout.splitlines()[0])["store_id"] == manifest["store_id"]
        assert stat.S_IMODE((target / "data" / "store.db").stat().st_mode) == 0o600
        assert list((target / "signed").glob("checkpoint-*.json"))
        status = carelog_cli("projections", "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        users = carelog_cli("users", "list", env=env)
        assert "Test psychiatrist" in users.stdout  # the staff registry came back too

    def test_a_damaged_backup_is_refused_before_anything_is_copied(self, tmp_path: Path) -> None:
        backup, _ = self.backed_up(tmp_path)
        views = backup / "carelog-views.db"
        data = bytearray(views.read_bytes())
        data[-1] ^= 0xFF
        views.write_bytes(bytes(data))
        target = tmp_path / "new-site"
        result = carelog_cli(
            "restore",
            str(backup),
            env={"CARELOG_DATABASE_URL": f"sqlite:///{target / 'carelog.db'}"},
        )
        assert result.returncode == 2
        assert "carelog-views.db differs from the manifest" in result.stderr
        assert not target.exists()

    def test_a_store_in_the_way_is_never_overwritten(self, tmp_path: Path) -> None:
        backup, live_env = self.backed_up(tmp_path)
        live = Path(live_env["CARELOG_DATABASE_URL"].removeprefix("sqlite:///"))
        before = live.read_bytes()
        result = carelog_cli("restore", str(backup), env=live_env)
        assert result.returncode == 2
        assert "already exist" in result.stderr
        assert live.read_bytes() == before


MARKER = "Quillon Farthingale"


class TestEventsOnlyBackups:
    """A full backup keeps the views' rows in clear, which no erasure reaches; an
    ``--events-only`` backup holds the patients' data only under their keys, and its
    restore rebuilds the views from the log."""

    @staticmethod
    def live(tmp_path: Path) -> tuple[Config, dict[str, str], str]:
        from tests.keys_support import with_kek

        config = with_kek(sqlite_config(tmp_path / "live"), tmp_path)
        carelog = CareLog(config)
        try:
            team = make_team(carelog)
            pid = register(carelog, CommandContext(team.psychiatrist), "MRN-EO", MARKER)
            for name in carelog.views.views:
                carelog.views.rebuild(name, progress=False)
        finally:
            carelog.close()
        env = {
            "CARELOG_DATABASE_URL": config.database_url,
            "CARELOG_CHECKPOINT_DIR": str(config.checkpoint_dir),
            "CARELOG_KEK_FILE": str(config.kek_file),
        }
        assert carelog_cli("checkpoint", env=env).returncode == 0
        return config, env, str(pid)

    def test_a_full_backup_says_its_views_are_not_encrypted(self, tmp_path: Path) -> None:
        _, env, _ = self.live(tmp_path)
        taken = carelog_cli("backup", str(tmp_path / "full"), env=env)
        assert taken.returncode == 0, taken.stderr
        manifest = json.loads((tmp_path / "full" / "manifest.json").read_text())
        assert manifest["encrypted"] is True
        assert manifest["encryption"] == {"events": "envelope", "views": "none"}
        assert manifest["events_only"] is False
        assert MARKER.encode() in (tmp_path / "full" / "carelog-views.db").read_bytes()

    def test_an_events_only_backup_holds_no_clear_patient_data_and_restores_its_views(
        self, tmp_path: Path
    ) -> None:
        _, env, pid = self.live(tmp_path)
        backup = tmp_path / "events-only"
        taken = carelog_cli("backup", str(backup), "--events-only", env=env)
        assert taken.returncode == 0, taken.stderr
        assert json.loads(taken.stdout)["events_only"] is True
        for file in backup.iterdir():
            if file.is_file():
                assert MARKER.encode() not in file.read_bytes(), file.name
        site = tmp_path / "restored"
        target_env = {
            "CARELOG_DATABASE_URL": f"sqlite:///{site / 'carelog.db'}",
            "CARELOG_CHECKPOINT_DIR": str(site / "signed"),
            "CARELOG_KEK_FILE": env["CARELOG_KEK_FILE"],
        }
        restored = carelog_cli("restore", str(backup), env=target_env)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "carelog verify: ok" in restored.stdout
        assert "taken as they are in the backup" in restored.stderr
        assert MARKER.encode() in (site / "carelog-views.db").read_bytes()  # rebuilt
        listed = carelog_cli("users", "list", env=target_env)
        assert "Test psychiatrist" in listed.stdout  # the staff registry is kept
        shown = carelog_cli("export", "fhir", pid, env=target_env)
        assert shown.returncode == 0, shown.stderr
        assert MARKER in shown.stdout


class TestSymlinkedPaths:
    def test_a_symlinked_backup_destination_is_refused_with_a_message(self, tmp_path: Path) -> None:
        config = sqlite_config(tmp_path / "live")
        create_store(config)
        (tmp_path / "real").mkdir()
        (tmp_path / "link").symlink_to(tmp_path / "real")
        (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
        for dest in ("link", "dangling"):
            result = carelog_cli(
                "backup", str(tmp_path / dest), env={"CARELOG_DATABASE_URL": config.database_url}
            )
            assert result.returncode == 2
            assert "is a symbolic link" in result.stderr
            assert "Traceback" not in result.stderr
        assert not list((tmp_path / "real").iterdir())

    def test_a_restore_onto_a_dangling_symlink_is_refused_and_creates_nothing(
        self, tmp_path: Path
    ) -> None:
        backup, _ = TestRestoreCommand.backed_up(tmp_path)
        target = tmp_path / "site"
        target.mkdir()
        (target / "carelog.db").symlink_to(tmp_path / "elsewhere.db")
        result = carelog_cli(
            "restore",
            str(backup),
            env={
                "CARELOG_DATABASE_URL": f"sqlite:///{target / 'carelog.db'}",
                "CARELOG_CHECKPOINT_DIR": str(target / "signed"),
            },
        )
        assert result.returncode == 2
        assert "already exist" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "elsewhere.db").exists()
        assert not (target / "signed").exists()
