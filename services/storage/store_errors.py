"""The error a store raises when its server cannot be reached, apart from the store's
module: the CLI catches it on every run, and importing ``postgres_store`` (psycopg and
eventsourcing's PostgreSQL recorder, a large share of a command's start-up) is only
needed when the store is PostgreSQL."""

from __future__ import annotations


class EventStoreUnreachableError(RuntimeError):
    """The event store's server refused or failed the first connection."""
