"""``carelog keys status|rotate|retire|new-kek``, ``carelog retention`` and ``carelog erase``:
envelope encryption's keys, retention and erasure (README, "Deploying").

The CLI acts as a system operator (``cli:<login name>``); ``erase --actor STAFF_ID`` names
the administrator who decided it, and is refused for anyone who is not an active admin.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from services.bootstrap import CareLog


def register_keys(sub: Any) -> None:
    """Adds the envelope-encryption actions to ``carelog keys``."""
    status = sub.add_parser(
        "status", help="list key-encryption keys and how many data keys each wraps"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=_status)
    rotate = sub.add_parser(
        "rotate", help="re-wrap every data key under the active (first) key-encryption key"
    )
    rotate.add_argument(
        "--new",
        metavar="ID",
        nargs="?",
        const="",
        help="first write a new key-encryption key at the top of CARELOG_KEK_FILE",
    )
    rotate.set_defaults(func=_rotate)
    retire = sub.add_parser(
        "retire", help="retire an old key-encryption key (refused while it wraps data keys)"
    )
    retire.add_argument("kek_id")
    retire.set_defaults(func=_retire)
    new = sub.add_parser("new-kek", help="print a new key-encryption key entry, ID:BASE64")
    new.add_argument("--id", default=None)
    new.set_defaults(func=_new_kek)


def register(subparsers: Any) -> None:
    retention = subparsers.add_parser(
        "retention", help="list patients whose last event is past the retention period"
    )
    period = retention.add_mutually_exclusive_group()
    period.add_argument("--years", type=float, help="default CARELOG_RETENTION_YEARS")
    period.add_argument("--days", type=float, help="default CARELOG_RETENTION_DAYS")
    retention.add_argument("--json", action="store_true")
    retention.set_defaults(func=_retention)
    erase = subparsers.add_parser(
        "erase", help="destroy a patient's data key: their record becomes unreadable (audited)"
    )
    erase.add_argument("patient_id")
    erase.add_argument("--reason", required=True, help="why (recorded; no clinical detail)")
    erase.add_argument(
        "--actor", default=None, help="the administrator's staff id (default cli:<login>)"
    )
    erase.set_defaults(func=_erase)


def _keyring(carelog: CareLog) -> Any:
    from services.keys.errors import KeyConfigError

    if carelog.keyring is None:
        raise KeyConfigError(
            "Envelope encryption is not configured (CARELOG_KEK or CARELOG_KEK_FILE): there "
            "are no key-encryption keys or data keys to list, rotate or retire. "
            "`carelog keys new-kek` makes one (README, 'Deploying')."
        )
    return carelog.keyring


def _status(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.rotation import status

    result = status(_keyring(carelog))
    if args.json:
        print(json.dumps(result))
    else:
        for k in result["keks"]:
            flags = [
                f
                for f, on in (
                    ("active", k["active"]),
                    ("retired", k["retired_at"]),
                    ("NOT CONFIGURED", k["missing"]),
                    ("WRONG VALUE", k["wrong_value"]),
                )
                if on
            ]
            print(f"{k['kek_id']:<24} {k['data_keys']:>8} data keys  {' '.join(flags)}")
        print(f"erased data keys: {result['erased_data_keys']}")
    return 0 if result["ok"] else 1


def _rotate(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.kek import load_keks, new_kek
    from services.keys.keyring import KeyRing
    from services.keys.rotation import rotate

    keyring = _keyring(carelog)
    if args.new is not None:
        file = carelog.config.kek_file
        if not file:
            print(
                "carelog keys rotate --new writes the new key into CARELOG_KEK_FILE, which is "
                "not set: add a key (carelog keys new-kek) at the front of CARELOG_KEK yourself.",
                file=sys.stderr,
            )
            return 2
        entry = new_kek(args.new or None)
        _prepend(Path(file), entry)
        print(f"new key-encryption key {entry.split(':')[0]!r} written to {file}", file=sys.stderr)
        keyring = KeyRing(keyring.db, load_keks(carelog.config.kek, file))
    result = rotate(keyring)
    print(json.dumps(result))
    return 1 if result["failed"] else 0


def _prepend(path: Path, entry: str) -> None:
    """Put a new key first in the key file, atomically (a half-written key file would
    lose keys): a private temporary file beside it, then a rename over it."""
    old = path.read_text()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(entry + "\n" + old)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _retire(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.rotation import retire

    print(json.dumps(retire(_keyring(carelog), args.kek_id)))
    print(
        f"remove {args.kek_id!r} from CARELOG_KEK / CARELOG_KEK_FILE (and destroy it)",
        file=sys.stderr,
    )
    return 0


def _new_kek(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.kek import new_kek

    print(new_kek(args.id))
    return 0


def _retention(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.erasure import past_retention

    if args.days is not None:
        days = args.days
    elif args.years is not None:
        days = args.years * 365.25
    else:
        days = carelog.config.retention_days
    due = past_retention(carelog, days)
    if args.json:
        print(json.dumps({"retention_days": days, "due": [d.as_dict() for d in due]}))
    else:
        print(f"patients whose last event is more than {days:g} days ago: {len(due)}")
        for d in due:
            print(f"{d.patient_id}  {d.mrn or '(MRN unreadable)':<20} last event {d.last_event_at}")
    return 0


def _erase(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.keys.erasure import erase

    result = erase(carelog, args.patient_id, args.reason, args.actor)
    print(json.dumps(result.as_dict()))
    return 0
