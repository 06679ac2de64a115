"""``carelog restore BACKUP``: put a ``carelog backup`` folder back where the configuration
says the store lives (steps 3 and 4 of the README's restore drill), never over data.

Every file is checked against the manifest's SHA-256 before anything is copied; the event
store, the views file and the checkpoint folder must all be absent (or the folder empty):
a restore never overwrites a store, however damaged. The caller verifies afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from services.config import Config
from services.storage.backup import FORMAT, BackupError, sha256_of


def check_backup(backup: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is present and unchanged."""
    try:
        manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{backup} holds no readable manifest.json: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{backup}/manifest.json is not a {FORMAT} manifest")
    for entry in manifest["files"]:
        path = backup / entry["path"]
        if not path.is_file():
            raise BackupError(f"the backup lacks {entry['path']}")
        if sha256_of(path) != entry["sha256"]:
            raise BackupError(f"{entry['path']} differs from the manifest (SHA-256): damaged")
    return manifest


def restore_backup(config: Config, backup: Path) -> dict[str, Any]:
    """Copy the checked backup into the configured locations; returns the manifest."""
    if config.is_postgres:
        raise BackupError(
            "the event store is PostgreSQL: restore its base backup and WAL (README, "
            '"Backups and restore"); carelog restore puts back the embedded store only'
        )
    views_url = config.effective_views_url
    if not views_url.startswith("sqlite:///"):
        raise BackupError("the views database (CARELOG_VIEWS_URL) is PostgreSQL")
    manifest = check_backup(backup)
    events = config.sqlite_path
    views = Config(database_url=views_url).sqlite_path
    checkpoints = config.checkpoint_folder
    in_the_way = [
        str(p)
        for p in (events, views, Path(f"{events}-wal"), Path(f"{views}-wal"), checkpoints)
        if p.is_symlink() or (p.exists() and p != checkpoints)
    ]
    if checkpoints.exists() and any(checkpoints.iterdir()):
        in_the_way.append(str(checkpoints))
    if in_the_way:
        raise BackupError(
            f"{', '.join(in_the_way)} already exist: stop CareLog and move the current "
            "data aside first (a restore never overwrites a store)"
        )
    layout = manifest["layout"]
    source_events = backup / layout["database"]
    source_views = backup / layout["views"]
    source_checkpoints = backup / layout["checkpoints"]
    for folder in {events.parent, views.parent}:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    checkpoints.mkdir(mode=0o700, parents=True, exist_ok=True)
    _copy_private(source_events, events)
    if source_views.is_file():
        _copy_private(source_views, views)
    if source_checkpoints.is_dir():
        for path in sorted(source_checkpoints.iterdir()):
            _copy_private(path, checkpoints / path.name)
    return manifest


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
