"""The folder that holds the signed checkpoint files, the witness files and the verification
mark, outside the database, with a lock so two writers never number a checkpoint alike.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.integrity.checkpoints import Checkpoint
from services.storage.file_modes import atomic_write

VERIFIED_FILE = "verified.json"
_WITNESS = struct.Struct(">q32s")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unreadable:
    """A file in the checkpoint directory that should be a checkpoint and is not."""

    path: Path
    reason: str


class CheckpointDirectory:
    """The checkpoint files, the witness files and the verification mark in one folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise checkpoint writers (API process, workers, CLI) on this directory."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the writers off while a verifier reads the files and the database copies
        (a checkpoint half-written, its file without its row yet, is not a finding); a
        folder the verifier cannot write (an auditor's copy) is read without the lock."""
        try:
            handle = open(self.path / ".lock", "a+b")  # noqa: SIM115 - closed below
        except OSError:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def load(self) -> tuple[list[Checkpoint], list[Unreadable]]:
        """Every checkpoint in sequence order, and the files that failed to parse."""
        checkpoints: list[Checkpoint] = []
        unreadable: list[Unreadable] = []
        if not self.path.is_dir():
            return checkpoints, unreadable
        for file in sorted(self.path.glob("checkpoint-*.json")):
            try:
                checkpoints.append(Checkpoint.from_json(json.loads(file.read_text()), file))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                unreadable.append(Unreadable(file, f"unreadable: {exc}"))
        checkpoints.sort(key=lambda c: c.seq)
        return checkpoints, unreadable

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint (by its zero-padded file name: one file read)."""
        if not self.path.is_dir():
            return None
        for file in sorted(self.path.glob("checkpoint-*.json"), key=file_seq, reverse=True):
            try:
                return Checkpoint.from_json(json.loads(file.read_text()), file)
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return None

    def write(self, checkpoint: Checkpoint) -> Path:
        target = self.path / f"checkpoint-{checkpoint.seq:010d}.json"
        atomic_write(target, (json.dumps(checkpoint.as_json(), indent=2) + "\n").encode())
        return target

    # -- witness files ---------------------------------------------------------------------
    def witness_path(self, chain: str) -> Path:
        return self.path / f"{chain}.witness"

    def witness_last(self, chain: str) -> int:
        """The last position in a chain's witness file (0 if none); a torn tail is cut."""
        path = self.witness_path(chain)
        if not path.exists():
            return 0
        with open(path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            whole = size - size % _WITNESS.size
            if whole != size:
                handle.truncate(whole)
            if whole == 0:
                return 0
            handle.seek(whole - _WITNESS.size)
            position, _ = _WITNESS.unpack(handle.read(_WITNESS.size))
            return int(position)

    def witness_append(self, chain: str, links: list[tuple[int, bytes]]) -> None:
        if not links:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.witness_path(chain), "ab") as handle:
            handle.write(b"".join(_WITNESS.pack(p, h) for p, h in links))
            handle.flush()
            os.fsync(handle.fileno())

    def witness_range(self, chain: str, after: int, upto: int) -> dict[int, bytes] | None:
        """The witnessed links in (after, upto], or None if there is no witness file."""
        path = self.witness_path(chain)
        if not path.exists():
            return None
        data = path.read_bytes()
        data = data[: len(data) - len(data) % _WITNESS.size]
        return {p: h for p, h in _WITNESS.iter_unpack(data) if after < p <= upto}

    # -- the last verification, for /readyz ------------------------------------------------
    def write_verified(self, mark: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path / VERIFIED_FILE, (json.dumps(mark) + "\n").encode())

    def read_verified(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.path / VERIFIED_FILE).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def file_seq(file: Path) -> int:
    """The sequence number in a checkpoint file's name (-1 if it has none)."""
    try:
        return int(file.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1
