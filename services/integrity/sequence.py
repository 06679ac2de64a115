"""Which checkpoints a verification can trust, and what is wrong with the rest.

Each checkpoint may exist in up to three places: its file in the checkpoint folder, its
copy in the database (format 2), and an auditor's witness file. They must agree, and
together they must run 1, 2, 3 ... with each naming its predecessor's digest. A copy
whose signature holds vouches for what it says even when another copy was removed or
edited, so deleting the files (or the rows) leaves the rest as evidence. Checkpoints that
name another store are set aside and reported as such: they are not this store's, and not
tampering. Format 1 (legacy) checkpoints have no store id and no database copy: they are
checked as before and counted, and the sequence continues from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.integrity.checkpoint_directory import CheckpointDirectory, file_seq
from services.integrity.checkpoints import Checkpoint, CheckpointRecords
from services.integrity.classify import Problem
from services.integrity.witness import WitnessFile


@dataclass
class CheckpointCheck:
    """The outcome: the trusted checkpoints in sequence, the problems, and notes."""

    trusted: list[Checkpoint] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    foreign: list[Checkpoint] = field(default_factory=list)
    legacy: int = 0


def _name(checkpoint: Checkpoint) -> str:
    return checkpoint.path.name if checkpoint.path else f"checkpoint {checkpoint.seq}"


def _bad(position: int, detail: str) -> Problem:
    return Problem("checkpoints", position, "bad-checkpoint", detail, "signature")


def check_checkpoints(
    directory: CheckpointDirectory,
    records: CheckpointRecords | None,
    store: str | None,
    public_key: Ed25519PublicKey | None,
    witness: WitnessFile | None = None,
    witness_required: bool = True,
    signer_record: Checkpoint | None = None,
    own_folder: bool = False,
) -> CheckpointCheck:
    """Gather every copy of every checkpoint, and sort the trusted from the rest.

    ``own_folder``: the folder is the store's own default one (derived from where the
    store is, not set by CARELOG_CHECKPOINT_DIR). No other store writes there, so a
    checkpoint in it signed by the trusted key but naming another store id means the
    store id was changed under its checkpoints: tampering, not "another store's"."""
    out = CheckpointCheck()
    files, unreadable = directory.load()
    out.problems.extend(_bad(0, f"{u.path.name}: {u.reason}") for u in unreadable)
    own: dict[int, Checkpoint] = {}
    for checkpoint in files:
        named = file_seq(checkpoint.path) if checkpoint.path else checkpoint.seq
        if named != checkpoint.seq:  # a file copied or renamed over another
            out.problems.append(
                _bad(0, f"{_name(checkpoint)}: holds checkpoint {checkpoint.seq}, not {named}")
            )
        if checkpoint.legacy or checkpoint.store == store or store is None:
            own[checkpoint.seq] = checkpoint
        else:
            out.foreign.append(checkpoint)
    stored: dict[int, Checkpoint] = {}
    for seq, body in records.select_checkpoints() if records is not None else []:
        try:
            copy = Checkpoint.from_json(json.loads(body))
        except (ValueError, KeyError, TypeError) as exc:
            out.problems.append(
                _bad(0, f"the database copy of checkpoint {seq}: unreadable: {exc}")
            )
            continue
        if copy.store == store and copy.seq == seq:
            stored[seq] = copy
        else:
            out.problems.append(
                _bad(
                    0,
                    f"the database copy of checkpoint {seq} names store {copy.store} "
                    f"(seq {copy.seq}), not this store ({store})",
                )
            )
    witnessed: dict[int, tuple[str, Checkpoint]] = {}
    if witness is not None:
        if not witness.path.exists() and witness_required:
            out.problems.append(_bad(0, f"the witness file {witness.path} does not exist"))
        held, bad_lines = witness.read()
        out.problems.extend(_bad(0, line) for line in bad_lines)
        witnessed = {
            c.seq: ("witness file", c) for c in held if c.store is not None and c.store == store
        }
    if signer_record is not None and signer_record.store == store:
        witnessed.setdefault(signer_record.seq, ("signer's own record", signer_record))
    _check_sequence(out, own, stored, witnessed, records is not None, public_key)
    if own_folder and public_key is not None and store is not None:
        _store_id_changed(out, store, public_key)
    if out.foreign:
        stores = sorted({str(c.store) for c in out.foreign})
        out.notes.append(
            f"{len(out.foreign)} checkpoint(s) in {directory.path} are checkpoints of another "
            f"store ({', '.join(stores)}; this store is {store}): not this store's, ignored"
        )
    if out.legacy:
        out.notes.append(
            f"{out.legacy} legacy checkpoint(s) (format 1: unchained to a store, no database "
            "copy): checked by signature and sequence; new checkpoints continue from them"
        )
    if public_key is None and (own or stored or witnessed):
        out.notes.append(
            "no key to check checkpoint signatures with (none pinned, no signing key on "
            "this machine): their contents are compared, their signatures not checked"
        )
    return out


def _check_sequence(
    out: CheckpointCheck,
    own: dict[int, Checkpoint],
    stored: dict[int, Checkpoint],
    witnessed: dict[int, tuple[str, Checkpoint]],
    has_database: bool,
    public_key: Ed25519PublicKey | None,
) -> None:
    before: Checkpoint | None = None  # the checkpoint before, trusted or not
    before_ok = True
    for seq in sorted(set(own) | set(stored) | set(witnessed)):
        file, row = own.get(seq), stored.get(seq)
        label, seen = witnessed.get(seq, ("witness", None))
        copies = [(w, c) for w, c in (("file", file), ("database", row), (label, seen)) if c]
        where, base = copies[0]
        name = file.path.name if file is not None and file.path else f"checkpoint {seq}"
        reasons: list[str] = []
        good: Checkpoint | None = None
        for source, copy in copies:
            reason = copy.signature_problem(public_key) if public_key is not None else None
            if reason is None:
                good = copy
                break
            reasons.append(reason if source == "file" else f"its {source} copy: {reason}")
        if good is not None and good is not base:
            reasons.append(f"the {good_source(copies, good)} copy is intact and used instead")
        if file is None:
            reasons.append(
                "missing from the directory"
                + (" (the database still holds it)" if row else " and the database")
                + (f" (the {label} holds it)" if seen else "")
            )
        elif row is None and has_database and not file.legacy:
            reasons.append("not recorded in the database (its copy there is gone)")
        differing = [source for source, copy in copies[1:] if not copy.same_as(base)]
        if differing:
            reasons.append(f"the {' and '.join(differing)} copy differs from the {where}")
        current = good or base
        expected = before.seq + 1 if before else 1
        if seq != expected:
            reasons.append(f"checkpoint(s) {expected}..{seq - 1} are missing from the directory")
        elif before is not None and before_ok and good is not None:
            if good.previous != before.digest():
                reasons.append("it does not follow the checkpoint before it (one was replaced)")
            if good.legacy and not before.legacy:
                reasons.append("a legacy (format 1) checkpoint after a format 2 one")
        last = out.trusted[-1] if out.trusted else None
        if (
            good is not None
            and last is not None
            and any(
                h.position < last.chains[c].position
                for c, h in good.chains.items()
                if c in last.chains
            )
        ):
            reasons.append("its positions go backwards")
        if reasons:
            where_events = current.chains.get("events")
            out.problems.append(
                _bad(where_events.position if where_events else 0, f"{name}: {'; '.join(reasons)}")
            )
        if good is not None:
            out.trusted.append(good)
            out.legacy += int(good.legacy)
        before, before_ok = current, good is not None


def good_source(copies: list[tuple[str, Checkpoint]], good: Checkpoint) -> str:
    return next(source for source, copy in copies if copy is good)


def _store_id_changed(out: CheckpointCheck, store: str, public_key: Ed25519PublicKey) -> None:
    """Checkpoints signed by the trusted key in the store's own folder for another store
    id: the id was rewritten in the database (to make them look like another store's)."""
    signed = [c for c in out.foreign if c.signature_problem(public_key) is None]
    if not signed:
        return
    out.foreign = [c for c in out.foreign if c not in signed]
    stores = sorted({str(c.store) for c in signed})
    out.problems.append(
        _bad(
            0,
            f"store id changed: {len(signed)} checkpoint(s) in this store's own folder, signed "
            f"by the trusted key, name store {', '.join(stores)}, but the database now says "
            f"{store}. If this store was deliberately re-created at the same path, move the "
            "old checkpoint folder away",
        )
    )
