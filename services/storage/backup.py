"""A consistent online copy of the embedded (SQLite) store: ``carelog backup DEST``.

Three things make up a store: the event store file, the views file (views, staff registry,
access log) and the checkpoint folder. Each SQLite file is copied with SQLite's online
backup API (a snapshot in one read transaction while writers carry on), and the copy is
made in an order that keeps the three consistent with each other:

1. the checkpoint folder is locked (the lock every checkpoint writer takes), so no
   checkpoint is signed while the backup runs, and copied: every checkpoint in the copy
   vouches only for events and access entries that exist when the copy starts;
2. the views file next: views only ever trail the log, so views copied before the log
   never point past it;
3. the event store last: it holds everything the two copies above refer to.

The copy is written to a hidden folder beside DEST and renamed into place at the end, so
DEST is either the whole backup or absent. Folders are 0700 and files 0600 (it holds
patients' records); ``manifest.json`` lists each file's size and SHA-256, the store id and
the positions. Keys are never copied: the cipher key (CARELOG_CIPHER_KEY) and the signing
key must be kept, separately, for the backup to be readable and verifiable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.config import Config
from services.integrity.checkpoint_directory import VERIFIED_FILE, CheckpointDirectory

FORMAT = "carelog-backup/1"
SKIPPED = {VERIFIED_FILE}
"""The last verification's outcome is the source's, not the copy's: left out."""
POSTGRES_ADVICE = (
    "the event store is PostgreSQL: back it up with PostgreSQL's own tools, a base backup "
    "(pg_basebackup) with continuous WAL archiving for point-in-time recovery, and copy "
    "the checkpoint folder ({folder}) after each base backup; see the README, "
    '"Backups and restore". carelog backup copies the embedded (SQLite) store only.'
)


class BackupError(Exception):
    """The backup cannot be taken (message says why); nothing was left at DEST."""


@dataclass(frozen=True)
class Backup:
    folder: Path
    manifest: dict[str, Any]


def take_backup(
    config: Config, dest: Path, store_id: str | None, *, events_only: bool = False
) -> Backup:
    """Copy the store named by ``config`` into the new folder ``dest``.

    ``events_only`` leaves the views' rows out of the copy of the views file (the staff
    registry and the chained access log stay): views are rebuilt from the log after a
    restore, so a later erasure reaches such a backup (its events are under the patients'
    data keys), whereas a full backup keeps view rows in clear."""
    if config.is_postgres:
        raise BackupError(POSTGRES_ADVICE.format(folder=config.checkpoint_folder))
    views_url = config.effective_views_url
    if not views_url.startswith("sqlite:///"):
        raise BackupError(
            "the views database (CARELOG_VIEWS_URL) is PostgreSQL: back it up with "
            "PostgreSQL's tools, or keep views beside a SQLite event store"
        )
    events = config.sqlite_path
    views = Config(database_url=views_url).sqlite_path
    if not events.is_file():
        raise BackupError(f"there is no event store at {events}")
    if dest.is_symlink():
        raise BackupError(f"{dest} is a symbolic link: give the real path of a new folder")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not empty: give a new (or empty) folder")
    dest = dest.absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = dest.parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    try:
        manifest = _copy(config, events, views, work, store_id, events_only)
        _write_private(work / "manifest.json", json.dumps(manifest, indent=2) + "\n")
        _sync_folder(work)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
        _sync_folder(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Backup(dest, manifest)


def _copy(
    config: Config,
    events: Path,
    views: Path,
    work: Path,
    store_id: str | None,
    events_only: bool = False,
) -> dict[str, Any]:
    """Steps 1-3 of the module docstring; returns the manifest."""
    # The folder names follow CareLog's defaults, so CARELOG_DATABASE_URL pointing at
    # the copied event store finds the views and checkpoints beside it.
    events_copy = work / events.name
    views_copy = work / f"{events.stem}-views{events.suffix}"
    checkpoints_copy = work / f"{events.name}.checkpoints"
    started = datetime.now(UTC).isoformat()
    source_checkpoints = config.checkpoint_folder
    directory = CheckpointDirectory(source_checkpoints)
    with directory.locked():
        checkpoints_copy.mkdir(mode=0o700)
        for path in sorted(source_checkpoints.iterdir()):
            if path.is_file() and path.name not in SKIPPED and not path.name.startswith("."):
                shutil.copyfile(path, checkpoints_copy / path.name)
                (checkpoints_copy / path.name).chmod(0o600)
        if views.is_file():
            _sqlite_backup(views, views_copy)
            if events_only:
                _drop_view_rows(views_copy)
        _sqlite_backup(events, events_copy)
    files = [
        _describe(path, work)
        for path in [events_copy, views_copy, *sorted(checkpoints_copy.iterdir())]
        if path.is_file()
    ]
    return {
        "format": FORMAT,
        "started": started,
        "finished": datetime.now(UTC).isoformat(),
        "store_id": store_id,
        "source": {
            "database": str(events.absolute()),
            "views": str(views.absolute()),
            "checkpoints": str(source_checkpoints.absolute()),
        },
        "positions": {
            "events": _head(events_copy),
            "views": _view_positions(views_copy),
            "checkpoints": len(list(checkpoints_copy.glob("checkpoint-*.json"))),
        },
        # What is under a key in the copy: with envelope encryption (CARELOG_KEK) the
        # events are, under per-patient keys, but the views file never is.
        "encrypted": bool(config.cipher_key) or config.envelope,
        "encryption": {
            "events": "envelope"
            if config.envelope
            else ("store-key" if config.cipher_key else "none"),
            "views": "none",
        },
        "events_only": events_only,
        "layout": {
            "database": events_copy.name,
            "views": views_copy.name,
            "checkpoints": checkpoints_copy.name,
        },
        "files": files,
    }


def _sqlite_backup(source: Path, target: Path) -> None:
    """One consistent snapshot of ``source`` (SQLite's online backup, in a single step:
    one read transaction, so writers in WAL mode carry on meanwhile)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # A single self-contained file (no -wal/-shm beside it); CareLog turns WAL back
        # on when it opens the restored file.
        dst.execute("PRAGMA journal_mode=DELETE")
        check = dst.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"the copy of {source.name} fails SQLite's check: {check}")
    finally:
        dst.close()
        src.close()
    for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def _drop_view_rows(views_copy: Path) -> None:
    """Empty every view table (each row with a patient's id, and stored responses) of the
    copy, keep the staff registry and the chained access log, and forget the views'
    positions so they are rebuilt from the log; then rewrite the file without free pages."""
    from services.keys.erasure import KEPT_TABLES

    conn = sqlite3.connect(views_copy, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        tables = [
            str(r[0])
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(r[0]).startswith("sqlite_")
        ]
        conn.execute("BEGIN")
        for table in tables:
            columns = {str(c[1]) for c in conn.execute(f'PRAGMA table_info("{table}")')}
            if table in KEPT_TABLES:
                continue
            if "patient_id" in columns or table in {"idempotency_keys", "view_tracking"}:
                conn.execute(f'DELETE FROM "{table}"')
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()


def _head(events_copy: Path) -> int:
    with sqlite3.connect(f"file:{events_copy}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    return int(row[0] or 0)


def _view_positions(views_copy: Path) -> dict[str, int]:
    if not views_copy.is_file():
        return {}
    with sqlite3.connect(f"file:{views_copy}?mode=ro", uri=True) as conn:
        try:
            rows = conn.execute("SELECT name, stream, position FROM view_tracking").fetchall()
        except sqlite3.OperationalError:  # no views yet
            return {}
    return {f"{name}/{stream}": int(position) for name, stream, position in rows}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(path: Path, root: Path) -> dict[str, Any]:
    return {
        "path": str(path.relative_to(root)),
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
    }


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
