"""Event store recorders that chain every event in the transaction that stores it.

CareLog's application uses these instead of the library's recorders (wired through
``APPLICATION_RECORDER_TOPIC`` in ``Config.eventsourcing_env``). After the library has
inserted a batch of events, and still inside its transaction, the recorder reads the chain
head, computes one link per new event and inserts ``(position, hash)`` rows into
``<events table>_chain``. The events and their links commit together or not at all, so there
is no window in which a committed event is unchained.

The read of the head is race-free: on PostgreSQL it is queued behind the EXCLUSIVE lock
on the events table that every writer takes (they are serialised behind it), and arrives
with the library's own pipeline sync; on SQLite the insert has already taken the
database's write lock, so the transaction sees the latest committed head and no other
writer can commit before it.

Beside the chain, two small tables: ``<events table>_store`` keeps the store's id (made
once, when the tables are created), ``<events table>_checkpoints`` a copy of each signed
checkpoint (services/integrity/checkpoints.py), so the database and the checkpoint folder
must agree.

A store created before chaining existed is sealed once, when the chain table is created:
its events are chained as they stand then (README, "Audit review").
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from eventsourcing.persistence import StoredEvent

from services.integrity.chain import GENESIS, canonical_id, event_bytes, extend

SEAL_BATCH = 5000


def new_store_id() -> str:
    """A store's identity, made once when its tables are created and kept in it: each
    checkpoint names it, so one store's checkpoints are never taken for another's."""
    return uuid.uuid4().hex


class ChainBrokenError(RuntimeError):
    """The chain head is ahead of the events being written: the store has been tampered
    with (e.g. its newest events deleted). Writing stops until ``carelog verify`` has been
    run and the damage dealt with."""


def links_for(
    head: tuple[int, bytes] | None, positions: Sequence[int], stored_events: Sequence[StoredEvent]
) -> list[tuple[int, bytes]]:
    """The chain links for events just inserted at ``positions``, following on from the
    stored ``head`` (both recorders' step inside the insert transaction)."""
    previous = head[1] if head else GENESIS
    if head is not None and positions and head[0] >= positions[0]:
        raise ChainBrokenError(
            f"The event chain's head ({head[0]}) is not before the new event's position "
            f"({positions[0]}): the event log has been altered. Run `carelog verify`."
        )
    return extend(
        previous,
        [
            (
                position,
                event_bytes(canonical_id(s.originator_id), s.originator_version, s.topic, s.state),
            )
            for position, s in zip(positions, stored_events, strict=True)
        ],
    )
