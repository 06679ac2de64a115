"""The pages' session-cookie key when ``CARELOG_SECRET_KEY`` is not set.

``carelog serve`` used to make a new random key at every start, so a restart (re-running
``make run``) signed every browser out although its server-side session record was still
valid. The key is now made once and kept beside the store, as the demo tokens are
(``var/carelog.db`` → ``var/carelog.db.session-key``; PostgreSQL: beside its checkpoints),
readable by its owner only (0600, written atomically, never readable by others even
briefly). It is trusted only while it stays private: a file others may read or write, a
symbolic link, another user's file or a malformed one is ignored and replaced by a new key
(ending the sessions it signed). ``CARELOG_SECRET_KEY``, when set, is used as before and
nothing is written. The sessions themselves stay server-side records: signing out,
deactivating an account or rotating its token still ends them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from services.access.demo_tokens import tokens_path
from services.config import Config
from services.storage.file_modes import read_private, write_private

SUFFIX = ".session-key"
_DEMO_SUFFIX = ".demo-tokens.json"


def key_path(config: Config) -> Path:
    """Where the key is kept: beside the store, next to the demo tokens."""
    tokens = tokens_path(config)
    return tokens.with_name(tokens.name.removesuffix(_DEMO_SUFFIX) + SUFFIX)


def load_or_create(config: Config) -> str:
    """The kept key, or a new one written 0600 when there is none to trust."""
    path = key_path(config)
    kept = _read(path)
    if kept is not None:
        return kept
    key = secrets.token_hex(32)
    _write(path, key)
    return key


def _read(path: Path) -> str | None:
    text = read_private(path, encoding="ascii")
    if text is None:
        return None
    text = text.strip()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        return None
    return text


def _write(path: Path, key: str) -> None:
    write_private(path, key + "\n", encoding="ascii")
