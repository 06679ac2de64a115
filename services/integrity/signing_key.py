"""The Ed25519 key that signs checkpoints, and its public half: kept in a file apart from the
database (an attacker who can rewrite the store should not also hold the key that vouches
for it).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from services.storage.file_modes import atomic_write

PUBLIC_KEY_FILE = "signing.pub"
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
