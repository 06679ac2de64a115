"""A signed "still the newest" statement, renewed while the log stands still.

A pinned ``carelog verify`` fails records left past the newest checkpoint for longer than
its interval plus the grace: the newest checkpoints may have been removed. After a quiet
spell the newest checkpoint is old, and the first write after it would look overdue until
the next checkpoint. So while nothing moves, the signer renews ``heartbeat.json`` every
interval: "checkpoint N (digest D) of store S is still the newest, at time T", signed. The
verifier measures the tail from the later of the checkpoint's time and a heartbeat naming
that same checkpoint. Someone who removes the newest checkpoints gains nothing from it: a
heartbeat naming the checkpoint left newest was signed before the removed ones existed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.integrity.checkpoints import Checkpoint
from services.integrity.signing_key import key_id
from services.storage.file_modes import atomic_write

FORMAT = "carelog-heartbeat/1"
FILE = "heartbeat.json"


@dataclass(frozen=True)
class Heartbeat:
    store: str
    seq: int
    digest: str
    time: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        body = {
            "format": FORMAT,
            "store": self.store,
            "seq": self.seq,
            "digest": self.digest,
            "time": self.time,
            "key_id": self.key_id,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed_by(self, public_key: Ed25519PublicKey | None) -> bool:
        """Whether the trusted key signed this heartbeat (whatever checkpoint it names)."""
        if public_key is None or self.key_id != key_id(public_key):
            return False
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True

    def vouches_for(self, checkpoint: Checkpoint, public_key: Ed25519PublicKey | None) -> bool:
        """Whether this is a valid heartbeat, by the trusted key, for that checkpoint."""
        names_it = (self.store, self.seq, self.digest) == (
            checkpoint.store,
            checkpoint.seq,
            checkpoint.digest(),
        )
        return names_it and self.signed_by(public_key)


def write_heartbeat(folder: Path, checkpoint: Checkpoint, key: Ed25519PrivateKey) -> None:
    """Sign and write "``checkpoint`` is still the newest, now" (format 2 checkpoints)."""
    if checkpoint.store is None:
        return
    beat = Heartbeat(
        checkpoint.store,
        checkpoint.seq,
        checkpoint.digest(),
        datetime.now(UTC).isoformat(),
        key_id(key.public_key()),
    )
    signature = base64.b64encode(key.sign(beat.payload())).decode()
    body: dict[str, Any] = {**json.loads(beat.payload()), "signature": signature}
    atomic_write(folder / FILE, (json.dumps(body) + "\n").encode())


def read_heartbeat(folder: Path) -> Heartbeat | None:
    try:
        data = json.loads((folder / FILE).read_text())
        if data.get("format") != FORMAT:
            return None
        return Heartbeat(
            str(data["store"]),
            int(data["seq"]),
            str(data["digest"]),
            str(data["time"]),
            str(data["key_id"]),
            str(data["signature"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
