"""The hash chain: how a stored record becomes bytes, and how each link covers all before it.

``link(n) = SHA-256(link(n-1) ‖ position ‖ canonical bytes of record n)``, starting from 32
zero bytes. Every field is length-prefixed, so no two different records share their bytes,
and a tag byte keeps the event log's records apart from the access log's. Because each link
covers the one before it, changing, removing or reordering any stored record breaks every
link from there on unless the links are rewritten too, which the signed checkpoints catch.

Pure functions, no I/O: the recorders call them inside the write transaction and the
verifier calls them again over what is stored.
"""

from __future__ import annotations

import hashlib
import struct
from uuid import UUID

GENESIS = bytes(32)
HASH_SIZE = 32

EVENT_TAG = b"\x01"  # a record of the global event log
ACCESS_TAG = b"\x02"  # a row of the access log

_POSITION = struct.Struct(">q")
_LEN = struct.Struct(">I")
_VERSION_AND_LEN = struct.Struct(">qI")
_STATE_LEN = struct.Struct(">Q")


def canonical_id(originator_id: UUID | str) -> str:
    """The originator id as the text both stores agree on (a UUID's 32 hex digits)."""
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def event_bytes(originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of one stored event (its position is added by ``link``)."""
    oid = originator_id.encode()
    top = topic.encode()
    return b"".join(
        (
            EVENT_TAG,
            _LEN.pack(len(oid)),
            oid,
            _VERSION_AND_LEN.pack(version, len(top)),
            top,
            _STATE_LEN.pack(len(state)),
            state,
        )
    )


def fields_bytes(tag: bytes, fields: tuple[object, ...]) -> bytes:
    """The canonical bytes of a row of simple fields (None, int, str, bytes), in order.

    Each field is a type letter, a length and its bytes, so ``("ab", "c")`` and
    ``("a", "bc")``, or ``None`` and ``""``, never collide.
    """
    parts = [tag, _LEN.pack(len(fields))]
    for value in fields:
        if value is None:
            parts.append(b"n")
            continue
        if isinstance(value, bool):
            raw, kind = (b"1" if value else b"0"), b"b"
        elif isinstance(value, int):
            raw, kind = str(value).encode(), b"i"
        elif isinstance(value, bytes | bytearray | memoryview):
            raw, kind = bytes(value), b"y"
        else:
            raw, kind = str(value).encode(), b"s"
        parts.extend((kind, _LEN.pack(len(raw)), raw))
    return b"".join(parts)


def link(previous: bytes, position: int, record: bytes) -> bytes:
    """The chain link for ``record`` stored at ``position`` after the link ``previous``."""
    return hashlib.sha256(b"".join((previous, _POSITION.pack(position), record))).digest()


def extend(previous: bytes, records: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The links of ``records`` (position, canonical bytes) appended after ``previous``."""
    links = []
    for position, record in records:
        previous = link(previous, position, record)
        links.append((position, previous))
    return links
