"""``carelog verify``: recompute every chain, check every checkpoint, name the first damage.

Two independent checks, because they catch different attackers:

1. the chains: every link is recomputed over the stored records. This catches anyone who
   edits, deletes, moves or inserts records without recomputing the links after them;
2. the checkpoints: each signature is checked against the trusted public key, and each
   signed head against the stored link at its position. This catches someone who controls
   the database and rewrites the records *and* all the links consistently (or cuts the
   tail): they cannot sign. The witness files then name the first rewritten position.

Records written after the newest checkpoint are covered by (1) only: that is the window a
database owner could rewrite unnoticed, as long as the checkpoint interval. Deleting the
newest checkpoints would widen it: with a pinned key (or ``--strict``) records left
unsigned for longer than the newest checkpoint's interval plus a grace fail as an
"unsigned tail", and a witness file or the Kafka topic keeps what was deleted
(sequence.py, witness.py).
"""

from __future__ import annotations

import time
from bisect import bisect_right

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.integrity.checkpoint_directory import CheckpointDirectory
from services.integrity.checkpoint_freshness import heartbeat_ahead, unsigned_tail
from services.integrity.checkpoints import Checkpoint, CheckpointRecords
from services.integrity.classify import Problem, classify
from services.integrity.sequence import check_checkpoints
from services.integrity.signing_key import key_id
from services.integrity.verify_result import ChainReport, VerifyResult
from services.integrity.walk import ChainSource, WalkOutcome, walk
from services.integrity.witness import WitnessFile

CHAIN_ORDER = ("events", "access", "checkpoints")


class Verifier:
    """Verifies named chains against the checkpoints of one store (its folder, its database
    copies and, if given, an auditor's witness file)."""

    def __init__(
        self,
        sources: dict[str, ChainSource],
        directory: CheckpointDirectory,
        public_key: Ed25519PublicKey | None,
        *,
        records: CheckpointRecords | None = None,
        store: str | None = None,
        pinned: bool = False,
        strict: bool = False,
        allow_unsigned_tail: bool = False,
        interval: float = 60.0,
        grace: float = 60.0,
        witness: WitnessFile | None = None,
        witness_required: bool = True,
        signer_record: Checkpoint | None = None,
        own_folder: bool = False,
    ) -> None:
        self.sources = sources
        self.directory = directory
        self.public_key = public_key
        self.records = records
        self.store = store
        self.pinned = pinned and public_key is not None
        self.strict = strict
        self.allow_unsigned_tail = allow_unsigned_tail
        self.interval = interval
        self.grace = grace
        self.witness = witness
        self.witness_required = witness_required
        self.signer_record = signer_record
        self.own_folder = own_folder
        self.trusted: list[Checkpoint] = []

    def run(
        self, from_position: int | None = None, *, starts: dict[str, int] | None = None
    ) -> VerifyResult:
        """Verify everything; ``from_position`` starts the event log there, ``starts`` any
        chain by name (the link just before a start is taken as stored)."""
        began = time.perf_counter()
        with self.directory.reading():
            check = check_checkpoints(
                self.directory,
                self.records,
                self.store,
                self.public_key,
                self.witness,
                self.witness_required,
                self.signer_record,
                self.own_folder,
            )
            problems_seen = heartbeat_ahead(
                self.directory.path, self.store, self.public_key, check.trusted
            )
        checkpoints, problems, warnings = check.trusted, check.problems, list(check.notes)
        problems.extend(problems_seen)
        self.trusted = checkpoints
        chains: dict[str, ChainReport] = {}
        first = dict(starts or {})
        if from_position is not None:
            first["events"] = from_position
        for name, source in self.sources.items():
            start = max(1, first.get(name) or 1)
            found, report = self._verify_chain(name, source, start, checkpoints)
            problems.extend(found)
            chains[name] = report
            unattested = report.head_position > report.attested_position
            if unattested and report.records:
                tail = unsigned_tail(
                    report,
                    checkpoints[-1] if checkpoints else None,
                    self.directory.path,
                    self.public_key,
                    interval=self.interval,
                    grace=self.grace,
                )
                if tail is not None and (self.pinned or self.strict):
                    if self.allow_unsigned_tail:
                        warnings.append(f"{tail} (allowed by --allow-unsigned-tail)")
                    else:
                        problems.append(
                            Problem(
                                name,
                                report.attested_position + 1,
                                "unsigned-tail",
                                f"{tail}: the newest checkpoints may have been removed to "
                                "hide a rewrite. If the signer was stopped, run `carelog "
                                "checkpoint`; to accept the tail, --allow-unsigned-tail",
                                "checkpoint",
                            )
                        )
                else:
                    warnings.append(
                        f"{name}: positions after {report.attested_position} are "
                        "not yet covered by a signed checkpoint"
                    )
        if not checkpoints:
            warnings.append(
                "no valid checkpoint: a consistent rewrite of the whole database "
                "would not be detected"
            )
        if not self.pinned:
            used = "this machine's signing key" if self.public_key else "no key at all"
            warnings.append(
                f"unpinned: checkpoints were checked with {used}, not with a public key "
                "an auditor keeps (pass --public-key FILE)"
            )
            if self.strict:
                problems.append(
                    Problem(
                        "checkpoints",
                        0,
                        "unpinned",
                        "--strict needs a pinned public key (--public-key FILE): without "
                        "one, whoever can replace the signing key could re-sign a rewrite",
                        "signature",
                    )
                )
        problems.sort(key=lambda p: (CHAIN_ORDER.index(p.chain), p.position))
        return VerifyResult(
            problems=problems,
            chains=chains,
            checkpoints=len(checkpoints),
            key_id=key_id(self.public_key) if self.public_key else None,
            seconds=time.perf_counter() - began,
            warnings=warnings,
            pinned=self.pinned,
            store=self.store,
            foreign_checkpoints=len(check.foreign),
            legacy_checkpoints=check.legacy,
        )

    # -- one chain -------------------------------------------------------------------------
    def _verify_chain(
        self, name: str, source: ChainSource, start: int, checkpoints: list[Checkpoint]
    ) -> tuple[list[Problem], ChainReport]:
        heads: dict[int, tuple[int, bytes]] = {}
        for checkpoint in checkpoints:
            head = checkpoint.chains.get(name)
            if head is not None and head.position >= start and head.position > 0:
                heads.setdefault(head.position, (checkpoint.seq, bytes.fromhex(head.head)))
        outcome = walk(source, start, watch=frozenset(heads))
        witnessed: dict[int, bytes] | None = None
        order: list[int] = []

        def witness(after: int, upto: int) -> dict[int, bytes] | None:
            nonlocal witnessed
            if witnessed is None:  # read once, and only if something is wrong
                witnessed = self.directory.witness_range(name, 0, 2**62) or {}
                order.extend(sorted(witnessed))
            inside = order[bisect_right(order, after) : bisect_right(order, upto)]
            return {p: witnessed[p] for p in inside}

        problems = classify(name, outcome, witness)
        attested, good_before = 0, start - 1
        for position in sorted(heads):
            seq, signed = heads[position]
            if outcome.heads_seen.get(position) == signed:
                attested = good_before = position
                continue
            problems.append(self._locate(name, source, outcome, good_before, position, seq))
            break  # later checkpoints fail for the same reason
        earlier = [
            c.chains[name].position
            for c in checkpoints
            if name in c.chains and c.chains[name].position < start
        ]
        if not attested and earlier:
            attested = max(earlier)
        report = ChainReport(
            name,
            start,
            outcome.stop,
            outcome.records,
            outcome.last_position,
            outcome.last_link.hex(),
            attested,
        )
        return problems, report

    def _locate(
        self,
        name: str,
        source: ChainSource,
        outcome: WalkOutcome,
        after: int,
        position: int,
        seq: int,
    ) -> Problem:
        """The first position in (after, position] where the store and the witness of a
        failed checkpoint disagree."""
        stored_max = max(outcome.last_position, outcome.last_record_position)
        witness = self.directory.witness_range(name, after, position)
        signed = f"the signed checkpoint {seq} (position {position})"
        if witness:
            stored = dict(source.select_chain_links(after, position))
            for at in sorted(set(witness) | set(stored)):
                theirs, ours = witness.get(at), stored.get(at)
                if theirs == ours:
                    continue
                if ours is None:
                    if at > stored_max:
                        return Problem(
                            name,
                            at,
                            "truncated",
                            f"this record and every one after it are gone; "
                            f"{signed} vouches for them",
                            "checkpoint",
                        )
                    return Problem(
                        name,
                        at,
                        "missing",
                        f"{signed} vouches for a record here that is gone, and "
                        "the chain was rewritten to hide it",
                        "checkpoint",
                    )
                if theirs is None:
                    return Problem(
                        name,
                        at,
                        "forged",
                        f"a record that {signed} does not know of, with the "
                        "chain rewritten to include it",
                        "checkpoint",
                    )
                return Problem(
                    name,
                    at,
                    "changed",
                    f"the record and its chain were rewritten consistently; "
                    f"{signed} disagrees from here",
                    "checkpoint",
                )
        if position > stored_max:
            return Problem(
                name,
                stored_max + 1,
                "truncated",
                f"the log ends at {stored_max}, but {signed} vouches for records up to it",
                "checkpoint",
            )
        return Problem(
            name,
            position,
            "changed",
            f"the chain head here does not match {signed}: something in positions "
            f"{after + 1}..{position} was rewritten (no witness to say where)",
            "checkpoint",
        )
