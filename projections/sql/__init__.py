"""The SQL layer: the one place that opens a database (SQLite or PostgreSQL) for the views
and for CareLog's tables that cannot be rebuilt from the log (staff, access log,
idempotency keys, relay and view tracking), and the ordered migrations of those tables."""
