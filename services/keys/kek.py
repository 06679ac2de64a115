"""Key-encryption keys (KEKs): the operator's keys that wrap each patient's data key, given
as ``ID:BASE64`` entries (``CARELOG_KEK``, ``CARELOG_KEK_FILE``), the first one active.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.keys.errors import KeyConfigError

_KEK_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
_CHECK = b"carelog key-encryption key check v1"


@dataclass(frozen=True)
class Kek:
    """A key-encryption key: its id (named in the key table) and its 32 bytes."""

    id: str
    key: bytes

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.key, _CHECK, hashlib.sha256).hexdigest()[:32]

    def wrap(self, subject: str, dek: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, dek, f"{subject}|{self.id}".encode())

    def unwrap(self, subject: str, wrapped: bytes) -> bytes:
        aad = f"{subject}|{self.id}".encode()
        return AESGCM(self.key).decrypt(wrapped[:12], wrapped[12:], aad)


def new_kek(kek_id: str | None = None) -> str:
    """A new KEK entry for the configuration: ``ID:BASE64``."""
    kek_id = kek_id or "kek-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{kek_id}:{base64.b64encode(os.urandom(32)).decode()}"


def parse_keks(text: str, source: str) -> list[Kek]:
    """KEKs from ``ID:BASE64`` entries (comma- or line-separated; ``#`` starts a comment).
    The first is the active one: it wraps new data keys and rotation re-wraps into it."""
    keks: list[Kek] = []
    for raw in re.split(r"[,\n]", text):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        kek_id, sep, encoded = entry.partition(":")
        kek_id = kek_id.strip()
        if not sep or not _KEK_ID.match(kek_id):
            raise KeyConfigError(
                f"{source}: each key must be written ID:BASE64 (ID of letters, digits, '.', "
                f"'_' or '-'); found {kek_id[:40]!r}."
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise KeyConfigError(f"{source}: key {kek_id!r} is not valid base64.") from None
        if len(key) != 32:
            raise KeyConfigError(
                f"{source}: key {kek_id!r} is {len(key)} bytes; a KEK is 32 bytes "
                "(`carelog keys new-kek`)."
            )
        if any(k.id == kek_id for k in keks):
            raise KeyConfigError(f"{source}: key id {kek_id!r} is given twice.")
        keks.append(Kek(kek_id, key))
    return keks


def load_keks(env_value: str | None, file: str | None) -> list[Kek]:
    """The configured KEKs: ``CARELOG_KEK``'s first, then ``CARELOG_KEK_FILE``'s."""
    keks = parse_keks(env_value, "CARELOG_KEK") if env_value else []
    if file:
        try:
            text = Path(file).read_text()
        except OSError as exc:
            raise KeyConfigError(f"CARELOG_KEK_FILE {file}: cannot be read ({exc}).") from None
        for kek in parse_keks(text, f"CARELOG_KEK_FILE {file}"):
            if any(k.id == kek.id and k.key != kek.key for k in keks):
                raise KeyConfigError(f"Key {kek.id!r} has two different values configured.")
            if all(k.id != kek.id for k in keks):
                keks.append(kek)
    if (env_value or file) and not keks:
        raise KeyConfigError("CARELOG_KEK / CARELOG_KEK_FILE is set but holds no key.")
    return keks
