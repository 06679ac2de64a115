"""``carelog export fhir|access|log`` and ``carelog import log``: interoperability.

The CLI acts as a system operator (``cli:<login name>`` unless ``--actor`` says who), so
every export of patient data is recorded in the access log like a read through the API:
it shows in the audit trail and in the patient's accounting of disclosures.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import uuid4

from domain.command_context import parse_time
from services.bootstrap import CareLog
from services.cli.command_group import command_group

if TYPE_CHECKING:
    from services.integrity.portable_log import ImportResult


def register(subparsers: Any) -> None:
    sub = command_group(
        subparsers,
        "export",
        "export a patient as FHIR, a right-of-access package, or the event log as NDJSON",
        metavar="WHAT",
    )

    fhir = sub.add_parser("fhir", help="one patient as a FHIR R4 collection Bundle (JSON)")
    fhir.add_argument("patient_id")
    fhir.add_argument(
        "--as-of",
        metavar="TIME",
        help="as known at TIME (ISO 8601 with a zone): events recorded by then",
    )
    fhir.add_argument(
        "--effective-at",
        metavar="TIME",
        help="as in effect at TIME: events clinically effective by then",
    )
    fhir.add_argument(
        "--include-progress-notes",
        action="store_true",
        help="add progress notes (never psychotherapy notes)",
    )
    fhir.add_argument(
        "--transaction",
        action="store_true",
        help="a transaction Bundle of conditional PUTs a FHIR server can import "
        "(the current record only: not with --as-of or --effective-at)",
    )
    _common(fhir)
    fhir.set_defaults(func=_fhir)

    access = sub.add_parser(
        "access",
        help="a patient's right-of-access export: the record "
        "set as FHIR plus the accounting of disclosures",
    )
    access.add_argument("patient_id")
    _common(access)
    access.set_defaults(func=_access)

    log = sub.add_parser("log", help="the stored events with their chain hashes (NDJSON)")
    log.add_argument("--patient", metavar="ID", help="one patient's events only")
    log.add_argument(
        "--include-psychotherapy-notes",
        action="store_true",
        help="include psychotherapy notes (left out by default, as withheld lines; a file "
        "without them cannot be imported): needed to move a store",
    )
    _common(log)
    log.set_defaults(func=_export_log)

    load_sub = command_group(subparsers, "import", "load an export into this store", metavar="WHAT")
    log_in = load_sub.add_parser(
        "log", help="load a store's log export into an empty store, refusing a tampered file"
    )
    log_in.add_argument("file", type=Path, help="the NDJSON file ('-' for standard input)")
    log_in.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="the Ed25519 public key (PEM) the file's checkpoint must be "
        "signed with (default: the key in the file is trusted, and its id printed)",
    )
    log_in.add_argument(
        "--allow-unsigned",
        action="store_true",
        help="import a file whose events (all, or the last ones) no signed checkpoint "
        "covers: nothing then proves they were not rewritten with their hashes",
    )
    log_in.add_argument("--actor", default=None, help="who imports (default: cli:<login>)")
    log_in.set_defaults(func=_import_log)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of standard output"
    )
    parser.add_argument(
        "--reason", default=None, help="why the record is exported (recorded in the access log)"
    )
    parser.add_argument("--actor", default=None, help="who exports (default: cli:<login>)")


def _operator(args: argparse.Namespace) -> str:
    return str(args.actor or f"cli:{getpass.getuser()}")


def _record(
    carelog: CareLog,
    args: argparse.Namespace,
    patient_id: str | None,
    what: str,
    details: dict[str, Any],
    kind: str = "read",
) -> None:
    """The export as an access-log entry (a read of patient data, by an operator)."""
    carelog.access_log.record(
        actor_id=_operator(args),
        actor_role="operator",
        patient_id=patient_id,
        what=what,
        request_id=str(uuid4()),
        source="cli",
        allowed=True,
        reason=args.reason,
        kind=kind,
        details={**details, **({"reason": args.reason} if args.reason else {})},
    )


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out


def _fhir(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.interop.fhir import build_bundle
    from services.interop.fhir.versions import check_transaction

    as_of = parse_time(args.as_of, "as_of") if args.as_of else None
    effective = parse_time(args.effective_at, "effective_at") if args.effective_at else None
    check_transaction(args.transaction, as_of, effective)
    patient = str(carelog.app.get_record(args.patient_id).id)
    _record(
        carelog,
        args,
        patient,
        "fhir",
        {
            "as_of": args.as_of,
            "effective_at": args.effective_at,
            "progress_notes": bool(args.include_progress_notes),
        },
    )
    bundle = build_bundle(
        carelog.history,
        patient,
        as_of=as_of,
        effective_at=effective,
        include_progress_notes=args.include_progress_notes,
        transaction=args.transaction,
    )
    with _output(args.output) as out:
        out.write(json.dumps(bundle, indent=2) + "\n")
    return 0


def _access(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.interop.right_of_access import build_access_export

    patient = str(carelog.app.get_record(args.patient_id).id)
    _record(carelog, args, patient, "export", {"export": "right of access"})
    package = build_access_export(carelog, patient)
    with _output(args.output) as out:
        out.write(json.dumps(package, indent=2) + "\n")
    return 0


def _export_log(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.integrity.log_export import export_log

    notes = bool(args.include_psychotherapy_notes)
    choice = {"psychotherapy_notes": "included" if notes else "withheld"}
    if args.patient:
        patient = str(carelog.app.get_record(args.patient).id)
        _record(carelog, args, patient, "log", {"scope": "patient", **choice})
    else:  # every patient's record leaves at once: each accounting lists it as a bulk
        patient = None  # disclosure (services/interop/right_of_access.py)
        _record(carelog, args, None, "export.log", {"scope": "store", **choice}, kind="operator")
    with _output(args.output) as out:
        result = export_log(carelog, out, patient, include_psychotherapy_notes=notes)
    print(f"carelog export log: {result.events} events", file=sys.stderr)
    if result.withheld:
        print(
            f"{result.withheld} psychotherapy note entries withheld (state left out): the "
            "file cannot be imported as a store; export with --include-psychotherapy-notes "
            "to move one.",
            file=sys.stderr,
        )
    if not result.vouched:
        print(
            f"WARNING: no signed checkpoint covers positions after "
            f"{result.checkpoint_position or 0} (this store's signing key was not at hand "
            "or the log does not verify): `carelog import log` will refuse this file. Run "
            "`carelog checkpoint`, then export again.",
            file=sys.stderr,
        )
    return 0


def _import_log(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.integrity.log_import import import_log
    from services.integrity.portable_log import LogImportError

    unsigned = bool(args.allow_unsigned)
    try:
        if str(args.file) == "-":
            result = import_log(carelog, sys.stdin, args.public_key, allow_unsigned=unsigned)
        else:
            with open(args.file, encoding="utf-8") as source:
                result = import_log(carelog, source, args.public_key, allow_unsigned=unsigned)
    except LogImportError as exc:
        where = f" (position {exc.position}, line {exc.line})" if exc.position else ""
        print(f"carelog import log: refused{where}: {exc.message}", file=sys.stderr)
        return 1
    carelog.access_log.record(
        actor_id=_operator(args),
        actor_role="operator",
        patient_id=None,
        what="import.log",
        request_id=str(uuid4()),
        source="cli",
        allowed=True,
        kind="operator",
        details={
            "events": result.events,
            "last_position": result.last_position,
            "checkpoint_seq": result.checkpoint_seq,
            "checkpoint_position": result.checkpoint_position,
            "key_id": result.key_id,
            "key_pinned": result.key_pinned,
        },
    )
    print(
        f"carelog import log: {result.events} events up to position {result.last_position}"
        f", head {result.head[:16]}..."
    )
    for line in _import_trust(result):
        print(line)
    return 0


def _import_trust(result: ImportResult) -> list[str]:
    """What vouched for an imported log, said so that an unpinned key cannot be missed."""
    lines = []
    if result.checkpoint_seq is None:
        lines.append("WARNING: the file carried no signed checkpoint (--allow-unsigned).")
    else:
        lines.append(
            f"signed checkpoint {result.checkpoint_seq} at position "
            f"{result.checkpoint_position}, key {result.key_id}"
        )
        if result.key_pinned:
            lines.append(f"The signing key {result.key_id} is the one you pinned.")
        else:
            lines.append(
                f"WARNING: key {result.key_id} was trusted from the file itself: compare this "
                "fingerprint with the source store's (carelog verify there), or pin its "
                "signing.pub with --public-key."
            )
    if not result.vouched:
        lines.append(
            f"WARNING: positions after {result.checkpoint_position or 0} are vouched for by "
            "no signature (--allow-unsigned); no checkpoint was signed here. Check them "
            "another way, then run `carelog checkpoint`."
        )
    elif result.local_checkpoint_seq is not None:
        lines.append(
            f"Checkpoint {result.local_checkpoint_seq} signed with this store's key over the "
            "imported log: `carelog verify` checks it from now on."
        )
    return lines
