"""CareLog's files are its owner's alone: the SQLite store and views (with their ``-wal``
and ``-shm``), keys and checkpoints hold patient data or guard it.

``carelog`` sets the process umask to 077 when it starts (``services.cli.main``), so whatever it
creates (checkpoint folders and files, key files, SQLite's companions) is 0600/0700. A
SQLite file is also created private here before SQLite opens it, and tightened if an
earlier version left it world-readable, whoever embeds CareLog: SQLite gives ``-wal`` and
``-shm`` the mode of their database file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def private_sqlite(path: Path) -> None:
    """Create ``path`` (and the folders missing above it) private; make an existing store
    file and its companions private too. ``:memory:`` and empty paths are left alone."""
    if str(path) in ("", ":memory:") or str(path).startswith("file:"):
        return
    private_dirs(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    for suffix in SQLITE_COMPANIONS:
        tighten(Path(f"{path}{suffix}"), PRIVATE_FILE)


def private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents 0700 (existing folders are not changed:
    they may be shared ones, such as /tmp)."""
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=PRIVATE_DIR)
            os.chmod(created, PRIVATE_DIR)  # mkdir's mode is filtered by the umask


def tighten(path: Path, mode: int) -> None:
    """Take group and other permissions off ``path`` if it exists and is ours."""
    try:
        info = path.stat()
    except OSError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077 & 0o777 | (mode & 0o700))


def read_private(path: Path, encoding: str = "utf-8") -> str | None:
    """The text of ``path`` if it is a regular file of this user's that nobody else may
    read or write; None otherwise (missing, a link, another's, open to others, unreadable).
    A secret kept on disk is trusted only while it stays private."""
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o077:
            return None
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return None
        return path.read_text(encoding=encoding)
    except (OSError, ValueError):
        return None


def write_private(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``path`` 0600 from its first byte (never readable by others, not even
    briefly), then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding=encoding) as handle:
        handle.write(text)
    os.replace(temporary, path)


def atomic_write(target: Path, data: bytes) -> None:
    """Replace ``target`` whole or not at all: a crash mid-write leaves the old file (a
    checkpoint or key half written would be unreadable, or unverifiable)."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)
