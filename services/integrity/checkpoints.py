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
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.integrity.signing_key import key_id

FORMAT = "carelog-checkpoint/2"


LEGACY_FORMAT = "carelog-checkpoint/1"


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
