"""The chain heads a new checkpoint signs: the checkpoint it follows (the newest of this
store's, in the folder or the database, each copy restored from the other), and how far each
chain moved since, verified and witnessed first. A log that does not follow on is refused
(``IntegrityViolation``): CareLog never signs over a chain it has not checked.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.integrity.checkpoint_directory import CheckpointDirectory
from services.integrity.checkpoints import ChainHead, Checkpoint, CheckpointRecords
from services.integrity.classify import classify
from services.integrity.walk import ChainSource, walk


class IntegrityViolation(Exception):
    """The log does not verify: CareLog refuses to sign a checkpoint over it."""

    def __init__(self, message: str, problems: list[Any]) -> None:
        super().__init__(message)
        self.problems = problems


def latest_checkpoint(
    directory: CheckpointDirectory,
    records: CheckpointRecords | None,
    store: str | None,
    public: Ed25519PublicKey,
) -> Checkpoint | None:
    """The checkpoint the next one follows: the newest of this store's (or legacy) in
    the folder and in the database. A folder holding another store's checkpoints is
    refused: the two stores would overwrite each other's files. If the newest has only
    one of its two copies (a signer stopped between writing them), the other is
    written again from it: its signature is checked first, and it hides nothing."""
    on_disk = directory.latest()
    if on_disk is not None and not on_disk.legacy and on_disk.store != store:
        raise IntegrityViolation(
            f"The checkpoint directory {directory.path} holds checkpoints of another "
            f"store ({on_disk.store}), not of this one ({store}): give this store a "
            "folder of its own (unset CARELOG_CHECKPOINT_DIR for the default, one per "
            "store). No checkpoint signed.",
            [],
        )
    row = records.latest_checkpoint() if records is not None else None
    in_db = Checkpoint.from_json(json.loads(row[1])) if row is not None else None
    candidates = [c for c in (on_disk, in_db) if c is not None]
    if not candidates:
        return None
    newest = max(candidates, key=lambda c: c.seq)
    if not newest.legacy and newest.signature_problem(public) is None:
        if on_disk is None or on_disk.seq < newest.seq:
            directory.write(newest)
        elif records is not None and (in_db is None or in_db.seq < newest.seq):
            records.insert_checkpoint(newest.seq, newest.body())
    return newest


def advance(
    directory: CheckpointDirectory, name: str, source: ChainSource, latest: Checkpoint | None
) -> ChainHead:
    """Where chain ``name`` stands now: what was written since ``latest`` verified and
    witnessed, refused (``IntegrityViolation``) if it does not follow on from it."""
    since = latest.chains.get(name) if latest else None
    start = since.position + 1 if since else 1
    if since is not None and since.position > 0:
        before = source.chain_link_before(start)
        if before is None or before != (since.position, bytes.fromhex(since.head)):
            raise IntegrityViolation(
                f"The {name} log no longer matches checkpoint {latest.seq if latest else 0}"
                f" at position {since.position}: run `carelog verify`.",
                [],
            )
    witnessed = directory.witness_last(name)
    links: list[tuple[int, bytes]] = []
    outcome = walk(source, start, collect=links)
    problems = classify(name, outcome)
    if problems:
        raise IntegrityViolation(
            f"The {name} log does not verify at {problems[0]}: no checkpoint signed.", problems
        )
    if witnessed < start - 1:  # witness file lost or new: fill the gap from the store
        links = source.select_chain_links(witnessed, start - 1) + links
    directory.witness_append(name, [(p, h) for p, h in links if p > witnessed])
    if outcome.last_position == 0 and since is not None:
        return since
    return ChainHead(outcome.last_position, outcome.last_link.hex())
