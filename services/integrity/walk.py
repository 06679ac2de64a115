"""Walking one chain: recompute every link over what is stored and note where it breaks.

The walk is the fast path of ``carelog verify``: it pages through the records and the
stored links in position order, recomputes each link from the one before, and notes an
``Anomaly`` wherever the two disagree. It resynchronises on the stored link after each
anomaly, so one bad record yields one anomaly rather than a cascade, and the first anomaly
is where the log was first altered. Naming *what* happened (changed, missing, reordered,
forged, truncated) is ``classify.py``'s job, done afterwards on the few anomalies found.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Protocol

from services.integrity.chain import GENESIS

PAGE = 5000
MAX_ANOMALIES = 10_000
_POSITION = struct.Struct(">q")


class ChainSource(Protocol):
    """A stored chain: its records (canonical bytes) and its links, by position."""

    def select_chain_records(self, after: int, upto: int, limit: int) -> list[tuple[int, bytes]]:
        """Records in (after, upto], in position order, at most ``limit``."""

    def select_chain_links(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        """Stored links in (after, upto], in position order."""

    def chain_link_before(self, position: int) -> tuple[int, bytes] | None:
        """The stored link with the greatest position below ``position``."""

    def chain_max_position(self) -> int:
        """The greatest position holding a record or a link (0 if none)."""


@dataclass
class Anomaly:
    """A position where what is stored does not chain.

    ``kind``: "mismatch" (record and link disagree), "unlinked" (a record without a
    link), "unrecorded" (a link without a record). ``previous`` is the link the walk chained
    from, ``before_previous`` the one before that; ``following`` the next position's
    (position, record, link), for telling an edited link from an edited record.
    """

    kind: str
    position: int
    record: bytes | None
    stored_link: bytes | None
    previous: bytes
    previous_position: int | None
    before_previous: bytes | None
    following: tuple[int, bytes | None, bytes | None] | None = None


@dataclass
class WalkOutcome:
    """What one walk saw."""

    start: int
    stop: int
    records: int = 0
    last_position: int = 0
    last_link: bytes = GENESIS
    last_record_position: int = 0
    anomalies: list[Anomaly] = field(default_factory=list)
    truncated_anomalies: bool = False
    heads_seen: dict[int, bytes] = field(default_factory=dict)


def walk(
    source: ChainSource,
    start: int = 1,
    stop: int | None = None,
    watch: frozenset[int] = frozenset(),
    collect: list[tuple[int, bytes]] | None = None,
) -> WalkOutcome:
    """Recompute the chain over positions [start, stop]; remember the stored links at the
    positions in ``watch`` (the checkpoints' positions), and every stored link in
    ``collect`` if given (the checkpoint's witness)."""
    stop = source.chain_max_position() if stop is None else stop
    out = WalkOutcome(start=start, stop=stop)
    before = source.chain_link_before(start) if start > 1 else None
    previous = before[1] if before else GENESIS
    previous_position: int | None = before[0] if before else None
    before_previous: bytes | None = None
    after = start - 1
    waiting: list[Anomaly] = []  # anomalies still to learn their following position
    sha256, pack = hashlib.sha256, _POSITION.pack
    anomalies = out.anomalies

    def note(kind: str, position: int, record: bytes | None, stored: bytes | None) -> None:
        if len(anomalies) >= MAX_ANOMALIES:
            out.truncated_anomalies = True
            return
        anomaly = Anomaly(
            kind, position, record, stored, previous, previous_position, before_previous
        )
        anomalies.append(anomaly)
        waiting.append(anomaly)

    while after < stop:
        records = source.select_chain_records(after, stop, PAGE)
        upto = records[-1][0] if len(records) == PAGE else stop
        links = source.select_chain_links(after, upto)
        out.records += len(records)
        if records:
            out.last_record_position = records[-1][0]
        n_records, n_links = len(records), len(links)
        # Fast path: records and links in step and chaining (nearly always the whole page).
        k, common = 0, (min(n_records, n_links) if not waiting else 0)
        while k < common:
            at, body = records[k]
            linked_at, digest = links[k]
            if linked_at != at or digest != sha256(b"".join((previous, pack(at), body))).digest():
                break
            if at in watch:
                out.heads_seen[at] = digest
            if collect is not None:
                collect.append((at, digest))
            before_previous, previous, previous_position = previous, digest, at
            k += 1
        i = j = k
        while i < n_records or j < n_links:
            r_pos = records[i][0] if i < n_records else None
            l_pos = links[j][0] if j < n_links else None
            record: bytes | None
            stored: bytes | None
            if r_pos is not None and r_pos == l_pos:
                position, record = records[i]
                stored = links[j][1]
                i += 1
                j += 1
            elif l_pos is None or (r_pos is not None and r_pos < l_pos):
                position, record = records[i]
                stored = None
                i += 1
            else:
                position, stored = links[j]
                record = None
                j += 1
            if waiting:
                for anomaly in waiting:
                    anomaly.following = (position, record, stored)
                waiting.clear()
            if record is not None and stored is not None:
                if sha256(b"".join((previous, pack(position), record))).digest() != stored:
                    note("mismatch", position, record, stored)
            elif stored is not None:
                note("unrecorded", position, None, stored)
            else:
                note("unlinked", position, record, None)
                continue  # a link-less record is not chained from: keep ``previous``
            assert stored is not None
            if position in watch:
                out.heads_seen[position] = stored
            if collect is not None:
                collect.append((position, stored))
            before_previous, previous, previous_position = previous, stored, position
        after = upto
    out.last_position = previous_position or 0
    out.last_link = previous
    return out
