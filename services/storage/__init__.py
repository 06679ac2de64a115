"""Where the stores live: the PostgreSQL event store factory, the schema lock, the SQLite
backup and restore, and the owner-only file modes of everything on disk."""
