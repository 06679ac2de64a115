"""Opening the database a URL names (the composition root's one way in)."""

from __future__ import annotations

from urllib.parse import unquote

from projections.sql.database import Database
from projections.sql.postgres import PostgresDatabase
from projections.sql.sqlite import SQLiteDatabase


def connect(url: str, pool_size: int = 5) -> Database:
    """Open the database a URL names: ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url, pool_size)
    if url.startswith("sqlite:///"):
        return SQLiteDatabase(unquote(url[len("sqlite:///") :]))
    raise ValueError(f"Unsupported database URL {url!r}: use sqlite:/// or postgresql://")
