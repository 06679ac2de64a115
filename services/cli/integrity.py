"""``carelog verify``, ``carelog checkpoint`` and ``carelog keys``: audit integrity and keys.

``verify`` exits 0 when every chain and checkpoint checks out, and 1 naming the first bad
position and what is wrong with it otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from services.bootstrap import CareLog
from services.cli.command_group import command_group


def register(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify", help="recompute the audit chains and check the signed checkpoints"
    )
    verify.add_argument(
        "--from",
        dest="from_position",
        type=int,
        metavar="POSITION",
        help="start the event log at POSITION (default: the beginning)",
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="trust only this Ed25519 public key (PEM) for checkpoints",
    )
    verify.add_argument(
        "--strict",
        action="store_true",
        help="also fail when no public key is pinned, and on an unsigned tail",
    )
    verify.add_argument(
        "--allow-unsigned-tail",
        action="store_true",
        help="accept records past the newest checkpoint for longer than its signing "
        "interval plus the grace (CARELOG_CHECKPOINT_GRACE), e.g. after the signer was down",
    )
    verify.add_argument(
        "--witness",
        type=Path,
        metavar="FILE",
        help="a witness file an auditor keeps: every checkpoint of this store in it must "
        "still be there, unchanged",
    )
    verify.add_argument(
        "--update-witness",
        action="store_true",
        help="with --witness: append the checkpoints found good (the file is created if "
        "missing); only when the verification passes",
    )
    verify.add_argument("--json", action="store_true", help="print the full result as JSON")
    verify.set_defaults(func=_verify)

    checkpoint = subparsers.add_parser(
        "checkpoint", help="sign the audit chains' heads into the checkpoint directory"
    )
    checkpoint.add_argument("--json", action="store_true", help="print the checkpoint as JSON")
    checkpoint.set_defaults(func=_checkpoint)

    sub = command_group(subparsers, "keys", "encryption and signing keys")
    generate = sub.add_parser(
        "generate", help="print a new AES-256 key (base64) for CARELOG_CIPHER_KEY"
    )
    generate.set_defaults(func=_generate)
    public = sub.add_parser(
        "public",
        help="print the checkpoint signing key's public half and its id (for auditors to pin)",
    )
    public.set_defaults(func=_public)
    from services.cli.keys import register_keys  # envelope encryption (services/keys)

    register_keys(sub)


def _verify(args: argparse.Namespace, carelog: CareLog) -> int:
    if args.update_witness and args.witness is None:
        print("carelog verify: --update-witness needs --witness FILE")
        return 2
    result = carelog.integrity.verify(
        args.from_position,
        public_key=args.public_key,
        strict=args.strict,
        allow_unsigned_tail=args.allow_unsigned_tail,
        witness=args.witness,
        update_witness=args.update_witness,
    )
    _check_erasures(result, carelog)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0 if result.ok else 1
    rate = result.records / result.seconds if result.seconds else 0.0
    ranges = ", ".join(
        f"{name} {report.start}..{report.head_position} ({report.records} records, "
        f"checkpointed to {report.attested_position})"
        for name, report in result.chains.items()
    )
    pinning = "pinned key" if result.pinned else "UNPINNED, key"
    if result.ok:
        print(
            f"carelog verify: ok: {ranges}; {result.checkpoints} checkpoint(s), {pinning} "
            f"{result.key_id or 'none'}; store {result.store}; {rate:,.0f} records/s"
        )
        if args.witness is not None:
            added = f", {result.witnessed} added" if args.update_witness else ""
            print(f"  witness: {args.witness} agrees{added}")
        for warning in result.warnings:
            print(f"  note: {warning}")
        return 0
    first = result.first_problem
    assert first is not None
    print(
        f"carelog verify: FAILED at {first.chain} position {first.position}: {first.kind}: "
        f"{first.detail}"
    )
    for problem in result.problems[1:20]:
        print(f"  also: {problem}")
    if len(result.problems) > 20:
        print(f"  ... {len(result.problems) - 20} more (use --json)")
    for warning in result.warnings:
        print(f"  note: {warning}")
    return 1


def _check_erasures(result: Any, carelog: CareLog) -> None:
    """Every erasure record (a data key's tombstone) must have its audited act in the
    chained access log, or the erasure is not proven to be an administrator's."""
    if not carelog.config.envelope or carelog.keyring is None:
        return
    from services.integrity.classify import Problem
    from services.keys.erasure import unaudited_erasures

    for pid in unaudited_erasures(carelog.keyring, carelog.db):
        result.problems.append(
            Problem(
                "access",
                0,
                "unaudited-erasure",
                f"erasure record for patient {pid} has no audited erase act "
                "(no patient.erase entry in the access log)",
            )
        )


def _checkpoint(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.integrity import IntegrityViolation

    try:
        checkpoint = carelog.integrity.checkpoint()
    except IntegrityViolation as exc:
        print(f"carelog checkpoint: refused: {exc}")
        return 1
    if checkpoint is None:
        print("carelog checkpoint: the log is empty: nothing to sign yet")
        return 0
    if args.json:
        print(json.dumps(checkpoint.as_json(), indent=2))
    else:
        heads = ", ".join(f"{name} at {head.position}" for name, head in checkpoint.chains.items())
        print(
            f"carelog checkpoint: {checkpoint.seq} ({heads}), key {checkpoint.key_id}: "
            f"{checkpoint.path}"
        )
    return 0


def _generate(args: argparse.Namespace, carelog: CareLog) -> int:
    from eventsourcing.cryptography import AESCipher

    print(AESCipher.create_key(num_bytes=32))
    return 0


def _public(args: argparse.Namespace, carelog: CareLog) -> int:
    from cryptography.hazmat.primitives import serialization

    from services.integrity.signing_key import key_id

    private = carelog.integrity.key.private_key()
    assert private is not None
    public = private.public_key()
    print(f"key id: {key_id(public)}")
    print(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode(),
        end="",
    )
    return 0
