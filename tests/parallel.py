"""What parallel test workers (pytest-xdist) share on one machine, and how they take turns."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def worker_id() -> str:
    """This process's pytest-xdist worker ("gw0", "gw1", ...), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@contextmanager
def one_at_a_time(name: str) -> Iterator[None]:
    """Holds a machine-wide lock while a step that must not run twice at once (an apt-get
    or npm install two workers would both start) runs."""
    path = Path(tempfile.gettempdir()) / f"carelog-tests-{name}.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
