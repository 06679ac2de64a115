"""``carelog backup DEST`` (services/storage/backup.py) and ``carelog restore BACKUP``
(services/storage/restore.py): the embedded store's online copy and its way back.

``backup`` exits 0 with a summary as one JSON line; 2 when DEST is not new or empty, or
when the store is PostgreSQL (whose own tools do it: the message and the README say how).
``restore`` exits 2 when the backup is damaged or a store is in the way, else with
``carelog verify``'s exit code on the restored store.
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
    backup.add_argument(
        "--events-only",
        action="store_true",
        help="leave the views' rows out (rebuilt from the log on restore): a later erasure "
        "then reaches this backup too",
    )
    backup.set_defaults(func=_backup)

    restore = subparsers.add_parser(
        "restore",
        help="put a backup back where the configuration says the store lives, then verify",
    )
    restore.add_argument("backup", type=Path, metavar="BACKUP", help="a carelog backup folder")
    restore.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="verify the restored store's checkpoints with this public key (PEM)",
    )
    restore.set_defaults(func=_restore)


def _backup(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.storage.backup import BackupError, take_backup

    config = carelog.config
    try:
        store_id = None if config.is_postgres else _store_id(carelog)
        result = take_backup(config, args.dest, store_id, events_only=args.events_only)
    except BackupError as exc:
        print(f"carelog: {exc}", file=sys.stderr)
        return 2
    manifest = result.manifest
    summary = {
        "backup": str(result.folder),
        "store_id": manifest["store_id"],
        "positions": manifest["positions"],
        "files": len(manifest["files"]),
        "events_only": manifest["events_only"],
    }
    print(json.dumps(summary))
    return 0


def _store_id(carelog: CareLog) -> str | None:
    if not carelog.config.sqlite_path.is_file():
        return None  # take_backup says there is no store; do not create one here
    store_id = getattr(carelog.app.recorder, "store_id", None)
    return str(store_id()) if callable(store_id) else None


def _restore(args: argparse.Namespace, carelog: CareLog) -> int:
    """Check and copy (services/storage/restore.py), then run ``carelog verify`` on the result:
    its exit code is this command's."""
    from services.cli.integrity import _verify
    from services.storage.backup import BackupError
    from services.storage.restore import restore_backup

    try:  # nothing may open the store before its files are back: it would create one
        manifest = restore_backup(carelog.config, args.backup)
    except BackupError as exc:
        print(f"carelog: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(
            {
                "restored": str(args.backup),
                "store_id": manifest["store_id"],
                "positions": manifest["positions"],
            }
        ),
        flush=True,
    )
    print(
        "carelog: note: the staff registry and the views are taken as they are in the backup; "
        "verify checks the event log, the access log and the erasure records, not those "
        "(run `carelog projections rebuild` to rebuild the views from the log)",
        file=sys.stderr,
    )
    if manifest.get("events_only"):
        for name in carelog.views.views:
            print(json.dumps(carelog.views.rebuild(name, progress=False)), flush=True)
    verify = argparse.Namespace(
        from_position=None,
        public_key=args.public_key,
        strict=False,
        allow_unsigned_tail=False,
        witness=None,
        update_witness=False,
        json=False,
    )
    return _verify(verify, carelog)
