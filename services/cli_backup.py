"""``carelog backup DEST``: a consistent online copy of the embedded store (services/backup.py).

Exit 0 with the manifest as one JSON line; 2 when DEST is not new or empty, or when the
store is PostgreSQL (whose own tools do it: the message and the README say how).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from services.bootstrap import CareLog


def register(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="copy the embedded store (events, views, checkpoints) into a new folder, online",
    )
    backup.add_argument("dest", type=Path, metavar="DEST", help="a new (or empty) folder")
    backup.set_defaults(func=_backup)


def _backup(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.backup import BackupError, take_backup

    config = carelog.config
    try:
        store_id = None if config.is_postgres else _store_id(carelog)
        result = take_backup(config, args.dest, store_id)
    except BackupError as exc:
        print(f"carelog: {exc}", file=sys.stderr)
        return 2
    manifest = result.manifest
    summary = {
        "backup": str(result.folder),
        "store_id": manifest["store_id"],
        "positions": manifest["positions"],
        "files": len(manifest["files"]),
    }
    print(json.dumps(summary))
    return 0


def _store_id(carelog: CareLog) -> str | None:
    if not carelog.config.sqlite_path.is_file():
        return None  # take_backup says there is no store; do not create one here
    store_id = getattr(carelog.app.recorder, "store_id", None)
    return str(store_id()) if callable(store_id) else None
