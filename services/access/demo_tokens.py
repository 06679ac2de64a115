"""The demo staff's tokens, kept so that re-running ``carelog demo`` prints the same ones.

The staff registry stores only a salted hash of each token (services/access/staff.py), so a token
cannot be recovered from the store: re-printing one needs its plaintext kept somewhere.
It is kept in one file beside the store, readable by its owner only (mode 0600), holding
the demo accounts' tokens and nothing else, written atomically. It is trusted only while
it stays private: a file that others may read (or write) is ignored, and the demo then
issues new tokens and rewrites it 0600. A token in the file that no longer signs in (the
account's token was rotated with ``carelog users``, the file belongs to another store) is
replaced the same way. ``carelog demo --rotate-tokens`` issues new tokens on purpose.
Nothing secret is derived from anything: each token is still 32 random bytes.

Demo accounts exist for trying CareLog on synthetic data; a deployment that holds real
patients signs its staff in through ``carelog users add`` or single sign-on, never with
these.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.config import Config
from services.storage.file_modes import read_private, write_private


def tokens_path(config: Config) -> Path:
    """Beside the store: ``var/carelog.db`` → ``var/carelog.db.demo-tokens.json``; for
    PostgreSQL, beside its checkpoints (``var/pg-HOST-PORT-DB-SCHEMA.demo-tokens.json``,
    or ``DIR.demo-tokens.json`` for a ``CARELOG_CHECKPOINT_DIR`` of ``DIR``)."""
    if not config.is_postgres:
        path = config.sqlite_path
        return path.with_name(path.name + ".demo-tokens.json")
    folder = config.checkpoint_folder
    return folder.with_name(folder.name.removesuffix(".checkpoints") + ".demo-tokens.json")


def load(path: Path) -> dict[str, str]:
    """The saved tokens by role; empty if the file is missing, unreadable, malformed, not
    a regular file of this user's, or open to anyone else."""
    text = read_private(path)
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def save(path: Path, tokens: dict[str, str]) -> None:
    """Written 0600 from its first byte, then moved into place (``write_private``)."""
    write_private(path, json.dumps(tokens, indent=2, sort_keys=True) + "\n")
