"""Which failures of a database are worth retrying as they are: the store was unreachable
or busy (a lost connection, a locked SQLite file), not a fault of what was written."""

from __future__ import annotations

import sqlite3


def is_transient_store_error(exc: BaseException) -> bool:
    """The database failed for a while (retry with backoff), rather than refused the data."""
    if isinstance(exc, (sqlite3.OperationalError, ConnectionError, TimeoutError)):
        return True
    try:
        import psycopg
        from eventsourcing.persistence import InterfaceError as ESInterfaceError
        from eventsourcing.persistence import OperationalError as ESOperationalError
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(
        exc,
        (psycopg.OperationalError, psycopg.InterfaceError, ESOperationalError, ESInterfaceError),
    )
