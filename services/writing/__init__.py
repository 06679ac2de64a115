"""The write path, in the order a command travels: the application and its commands, the
safety rules run on every write, group commit, idempotency, snapshots and the stored events'
encoding. Everything here writes the event store; nothing here reads a view."""
