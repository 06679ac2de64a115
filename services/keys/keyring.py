"""Envelope encryption: per-patient data keys (DEKs) wrapped by key-encryption keys (KEKs).

Each patient's events and snapshots are encrypted (AES-256-GCM) under that patient's own
DEK. The DEK is stored only wrapped (encrypted) under a KEK, in the key table
(``services/keys/table.py``); KEKs come from configuration (``CARELOG_KEK`` or
``CARELOG_KEK_FILE``), never from the store. So:

- rotating the KEK re-wraps every DEK and leaves the events as they are (the hash chain
  covers the stored bytes, which do not change);
- erasing a patient destroys one DEK: that patient's events stay in the log and the chain,
  unreadable (crypto-shredding);
- a store encrypted before with the one store-wide key (``CARELOG_CIPHER_KEY``) keeps
  working: that key becomes the ``legacy`` DEK, wrapped like the others, and decrypts the
  records written before (they carry no envelope header).

A record written here starts with ``MAGIC``, then the subject's id (16 bytes), a 12-byte
nonce and the AES-GCM ciphertext with its tag; the header is the authenticated data, so a
record cannot be moved to another patient's key. Unwrapped DEKs are cached in memory
(``cache_size`` of them, least recently used out) for at most ``cache_seconds``, so an
erasure in another process ends this one's ability to decrypt within that time; reads of
a patient check the key table for an erasure first (``check_readable``) in any case.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import RecordErasedError
from projections.sql.database import Database
from services.keys.errors import KeyConfigError, KeyUnavailableError
from services.keys.kek import Kek
from services.keys.table import DataKeyRow, KeyTable, migrate

MAGIC = b"\xc1KE1"

HEADER = len(MAGIC) + 16

LEGACY = "legacy"

STORE = UUID(int=0)  # the subject of records that belong to no patient


class KeyRing:
    """The configured KEKs, the key table and a bounded cache of unwrapped DEKs."""

    def __init__(
        self,
        db: Database,
        keks: Iterable[Kek],
        legacy_key: str | None = None,
        cache_size: int = 10_000,
        cache_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.keks = {k.id: k for k in keks}
        self.active = next(iter(self.keks.values()))
        self.table = KeyTable(db)
        self.cache_size = cache_size
        self.cache_seconds = cache_seconds
        self._cache: OrderedDict[str, tuple[AESGCM, float]] = OrderedDict()
        self._lock = threading.Lock()
        migrate(db)
        now = datetime.now(UTC)
        for kek in self.keks.values():
            self.table.add_kek(kek.id, kek.fingerprint, now)
        # A configured KEK whose value differs from the one the store first saw under that
        # id must never wrap a new DEK: the DEK would be lost once the config is fixed.
        self.active_is_wrong = self.active.id in self.wrong_keks()
        self._refuse_a_retired_active_kek()
        if legacy_key:
            self._import_legacy(legacy_key, now)
        self.has_legacy = self.table.get(LEGACY) is not None

    def _import_legacy(self, legacy_key: str, now: datetime) -> None:
        """The store-wide key of a store encrypted before becomes the ``legacy`` DEK."""
        key = base64.b64decode(legacy_key)
        if self.table.get(LEGACY) is None:
            self._refuse_a_wrong_active_kek(LEGACY)
            self.table.insert(LEGACY, self.active.id, self.active.wrap(LEGACY, key), now)
        with self._lock:
            self._cache[LEGACY] = (AESGCM(key), time.monotonic())

    # -- records ---------------------------------------------------------------------------
    def seal(self, subject: UUID, plain: bytes) -> bytes:
        header = MAGIC + subject.bytes
        nonce = os.urandom(12)
        return header + nonce + self._dek(str(subject), create=True).encrypt(nonce, plain, header)

    def open(self, state: bytes, what: str) -> bytes:
        """The clear bytes of a stored record (``what`` names it in errors)."""
        if state[: len(MAGIC)] != MAGIC or len(state) < HEADER + 12 + 16:
            return self._open_legacy(state, what)
        subject = str(UUID(bytes=state[len(MAGIC) : HEADER]))
        aead = self._dek(subject, create=False, what=what)
        try:
            return aead.decrypt(state[HEADER : HEADER + 12], state[HEADER + 12 :], state[:HEADER])
        except InvalidTag:
            raise KeyUnavailableError(
                f"{what} cannot be decrypted with the data key of {_who(subject)}: the record "
                "is damaged or was written under another key."
            ) from None

    def _open_legacy(self, state: bytes, what: str) -> bytes:
        """A record from before envelope encryption: under the legacy key, or clear."""
        if not self.has_legacy:
            return state  # the store was not encrypted before: the record is clear
        aead = self._dek(LEGACY, create=False, what=what)
        try:
            return aead.decrypt(state[:12], state[28:] + state[12:28], None)
        except InvalidTag:
            raise KeyUnavailableError(
                f"{what} (written before envelope encryption) cannot be decrypted with the "
                "legacy store key: is CARELOG_CIPHER_KEY the key the store was made with?"
            ) from None

    # -- data keys -------------------------------------------------------------------------
    def _cached(self, subject: str) -> AESGCM | None:
        with self._lock:
            entry = self._cache.get(subject)
            if entry is None:
                return None
            if time.monotonic() - entry[1] > self.cache_seconds:
                del self._cache[subject]
                return None
            self._cache.move_to_end(subject)
            return entry[0]

    def _remember(self, subject: str, aead: AESGCM) -> None:
        with self._lock:
            self._cache[subject] = (aead, time.monotonic())
            self._cache.move_to_end(subject)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def forget(self, subject: str) -> None:
        with self._lock:
            self._cache.pop(subject, None)

    def _dek(self, subject: str, *, create: bool, what: str = "") -> AESGCM:
        aead = self._cached(subject)
        if aead is not None:
            return aead
        row = self.table.get(subject)
        if row is None and create:
            self._refuse_a_wrong_active_kek(subject)
            dek = AESGCM.generate_key(256)
            self.table.insert(
                subject, self.active.id, self.active.wrap(subject, dek), datetime.now(UTC)
            )
            row = self.table.get(subject)
        if row is None:
            raise KeyUnavailableError(
                f"{what or 'A record'}: there is no data key for {_who(subject)} in the key "
                "table (was the key table lost or restored from another backup?)."
            )
        aead = AESGCM(self.unwrap(row, what))
        self._remember(subject, aead)
        return aead

    def _refuse_a_retired_active_kek(self) -> None:
        """A retired KEK is final: were it still first in the configuration it would wrap
        new patients' data keys, which are lost once the retired key is destroyed as the
        README's rotation steps say. So no process starts with it active."""
        known = self.table.kek(self.active.id)
        if known is not None and known["retired_at"]:
            raise KeyConfigError(
                f"The active key-encryption key {self.active.id!r} (the first in CARELOG_KEK / "
                f"CARELOG_KEK_FILE) was retired on {str(known['retired_at'])[:10]}: a retired "
                "key must never wrap new data keys. Put the current key first in the "
                "configuration (`carelog keys status` on a correctly configured host lists it); "
                "CareLog does not start with a retired key active."
            )

    def _refuse_a_wrong_active_kek(self, subject: str) -> None:
        if self.active_is_wrong:
            raise KeyUnavailableError(
                f"No data key can be made for {_who(subject)}: the active key-encryption key "
                f"{self.active.id!r} as configured is not the key this store recorded under "
                "that id (a wrong key in CARELOG_KEK / CARELOG_KEK_FILE?); nothing was written."
            )

    def unwrap(self, row: DataKeyRow, what: str = "") -> bytes:
        if row.wrapped is None or row.kek_id is None:
            raise erased_error(row)
        kek = self.keks.get(row.kek_id)
        prefix = f"{what}: " if what else ""
        if kek is None:
            raise KeyUnavailableError(
                f"{prefix}the data key of {_who(row.subject_id)} is wrapped by key-encryption "
                f"key {row.kek_id!r}, which is not configured (CARELOG_KEK / CARELOG_KEK_FILE)."
            )
        try:
            return kek.unwrap(row.subject_id, row.wrapped)
        except InvalidTag:
            raise KeyUnavailableError(
                f"{prefix}key-encryption key {row.kek_id!r} as configured cannot unwrap the data "
                f"key of {_who(row.subject_id)}: it is not the key with that id that wrapped it "
                "(a wrong key in CARELOG_KEK / CARELOG_KEK_FILE?)."
            ) from None

    def check_readable(self, patient_id: UUID | str) -> None:
        """Raise ``RecordErasedError`` if the patient's data key was destroyed."""
        row = self.table.get(str(patient_id))
        if row is not None and row.erased_at is not None:
            self.forget(row.subject_id)
            raise erased_error(row)

    def wrong_keks(self) -> list[str]:
        """Configured KEKs whose value differs from the one the store first saw."""
        return [
            kek.id
            for kek in self.keks.values()
            if (known := self.table.kek(kek.id)) is not None
            and known["fingerprint"] != kek.fingerprint
        ]


def erased_error(row: DataKeyRow) -> RecordErasedError:
    return RecordErasedError(
        row.subject_id, (row.erased_at or "")[:10], row.erased_reason or "", row.erased_at or ""
    )


def _who(subject: str) -> str:
    if subject == LEGACY:
        return "the legacy store-wide key"
    if subject == str(STORE):
        return "the store's own records"
    return f"patient {subject}"


def importable(keyring: KeyRing | None, exported: dict[str, Any] | None) -> str | None:
    """Why an export's key table must not be taken into this store (None: it may). Without
    KEKs configured it may: the wrapped keys wait for them, as the events do."""
    if keyring is None or not exported or not exported.get("data_keys"):
        return None
    needed = sorted({str(d["kek_id"]) for d in exported["data_keys"] if d.get("wrapped")})
    prints = {str(k["kek_id"]): k["fingerprint"] for k in exported.get("keks") or []}
    wrong = [
        k for k in needed if k in keyring.keks and prints.get(k) != keyring.keks[k].fingerprint
    ]
    if wrong:
        return (
            f"Key-encryption key(s) {wrong} as configured here are not the keys with those "
            "ids that wrap this log's data keys (CARELOG_KEK / CARELOG_KEK_FILE)."
        )
    return None
