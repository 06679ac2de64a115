"""Signed checkpoints, kept outside the database: the chain heads, signed with Ed25519.

Format 2 (``carelog-checkpoint/2``) also names the store the checkpoint belongs to (its
id, kept in the store) and the signing interval the signer promised, so a verifier can
tell another store's checkpoint from tampering and an overdue checkpoint from a quiet log.
Format 1 checkpoints (no store, no interval) still verify; they are reported as legacy.
Each format-2 checkpoint is also copied into the database (``<events>_checkpoints``) and,
when configured, appended to a witness file and published to Kafka (publish.py).

Whoever controls the database can rewrite the events and every chain link consistently;
they cannot sign a checkpoint without the private key, which lives outside the database.
A checkpoint is one JSON file (``checkpoint-<seq>.json``, seq zero-padded) naming each
chain's head position and hash, the time, the previous checkpoint's digest (so removing
one from the middle shows), the signing key's id and the signature over all of that.

Beside the checkpoints, ``<chain>.witness`` files keep every link up to the latest
checkpoint (40 bytes each). They are not trusted for detection: the signature is. They let
the verifier name the first rewritten position when a signed head no longer matches.

Layout of the checkpoint directory::

    signing.pub            the public key (PEM), for convenience only: never trusted
                           by the verifier (an auditor pins a copy kept elsewhere)
    checkpoint-0000000001.json ...
    events.witness, access.witness
    verified.json          the last verification's outcome, for /readyz
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "carelog-checkpoint/2"
LEGACY_FORMAT = "carelog-checkpoint/1"
PUBLIC_KEY_FILE = "signing.pub"
VERIFIED_FILE = "verified.json"
_WITNESS = struct.Struct(">q32s")
log = logging.getLogger(__name__)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


class SigningKey:
    """The Ed25519 key that signs checkpoints: loaded from its file, created on first use
    (0600, in a 0700 folder), its public half written beside the checkpoints for
    convenience (never trusted from there). ``legacy`` is where older CareLogs kept the
    key by default (beside the data): a key found there is moved to ``path`` once."""

    def __init__(self, path: Path, checkpoint_dir: Path, legacy: Path | None = None) -> None:
        self.path = path
        self.checkpoint_dir = checkpoint_dir
        self.legacy = legacy

    def private_key(self, *, create: bool = True) -> Ed25519PrivateKey | None:
        if not self.path.exists():
            self._adopt_legacy()
        if not self.path.exists():
            if not create:
                return None
            self._create()
        key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{self.path} is not an Ed25519 private key")
        with contextlib.suppress(OSError):
            self._publish(key.public_key())
        return key

    def local_public_key(self) -> Ed25519PublicKey | None:
        """This machine's signing key's public half (None if there is no key here)."""
        with contextlib.suppress(OSError, ValueError):
            private = self.private_key(create=False)
            if private is not None:
                return private.public_key()
        return None

    def trusted_public_key(self, pinned: Path | None = None) -> Ed25519PublicKey | None:
        """The key a verifier checks signatures with: a pinned public key file, else this
        machine's own signing key. Never the ``signing.pub`` beside the checkpoints:
        whoever can write there could plant their own."""
        if pinned is not None:
            return load_public_key(pinned)
        return self.local_public_key()

    def _adopt_legacy(self) -> None:
        legacy = self.legacy
        if legacy is None or legacy == self.path or not legacy.is_file():
            return
        self._write_private(legacy.read_bytes())
        legacy.unlink()
        log.warning("moved the checkpoint signing key from %s to %s", legacy, self.path)

    def _create(self) -> None:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._write_private(pem)

    def _write_private(self, pem: bytes) -> None:
        folder = self.path.parent
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        try:
            fd = os.open(self.path, flags, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())

    def _publish(self, public: Ed25519PublicKey) -> None:
        target = self.checkpoint_dir / PUBLIC_KEY_FILE
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if target.exists() and target.read_bytes() == pem:
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(target, pem)


class CheckpointRecords(Protocol):
    """The store's own side: its id and the database copy of each checkpoint (the
    event store's recorder, services/integrity/recorder.py)."""

    def store_id(self) -> str: ...

    def select_checkpoints(self) -> list[tuple[int, str]]: ...

    def latest_checkpoint(self) -> tuple[int, str] | None: ...

    def insert_checkpoint(self, seq: int, body: str) -> None: ...


@dataclass(frozen=True)
class ChainHead:
    """Where one chain stood: its last position and the link there (hex)."""

    position: int
    head: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of every chain's head at one moment."""

    seq: int
    time: str
    chains: dict[str, ChainHead]
    previous: str | None
    key_id: str
    signature: str = ""
    path: Path | None = field(default=None, compare=False)
    store: str | None = None  # the store's id; None: a legacy (format 1) checkpoint
    interval: float | None = None  # seconds between checkpoints the signer promised

    @property
    def legacy(self) -> bool:
        return self.store is None

    def payload(self) -> bytes:
        """The signed bytes: canonical JSON of everything but the signature."""
        body: dict[str, Any] = {
            "format": LEGACY_FORMAT if self.legacy else FORMAT,
            "seq": self.seq,
            "time": self.time,
            "previous": self.previous,
            "key_id": self.key_id,
            "chains": {
                name: {"position": h.position, "head": h.head}
                for name, h in sorted(self.chains.items())
            },
        }
        if not self.legacy:
            body["store"] = self.store
            body["interval"] = self.interval
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.payload()).hexdigest()

    def signed(self, key: Ed25519PrivateKey) -> Checkpoint:
        return replace(self, signature=base64.b64encode(key.sign(self.payload())).decode())

    def signature_problem(self, public_key: Ed25519PublicKey | None) -> str | None:
        """Why this checkpoint's signature cannot be trusted, or None if it can."""
        if public_key is None:
            return "no public key to check it with"
        if self.key_id != key_id(public_key):
            return f"signed by key {self.key_id}, not by the trusted key {key_id(public_key)}"
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, ValueError):
            return "its signature does not match its content (edited or forged)"
        return None

    def as_json(self) -> dict[str, Any]:
        return {**json.loads(self.payload()), "signature": self.signature}

    def body(self) -> str:
        """The checkpoint as the database keeps it (canonical JSON with its signature)."""
        return json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))

    def same_as(self, other: Checkpoint) -> bool:
        return self.payload() == other.payload() and self.signature == other.signature

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> Checkpoint:
        if data.get("format") not in (FORMAT, LEGACY_FORMAT):
            raise ValueError(f"not a {FORMAT} file")
        interval = data.get("interval")
        return cls(
            seq=int(data["seq"]),
            time=str(data["time"]),
            chains={
                str(name): ChainHead(int(h["position"]), str(h["head"]))
                for name, h in data["chains"].items()
            },
            previous=data.get("previous"),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
            path=path,
            store=None if data["format"] == LEGACY_FORMAT else str(data["store"]),
            interval=None if interval is None else float(interval),
        )


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


def atomic_write(target: Path, data: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
