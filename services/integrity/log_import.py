"""Reading a portable log back into an empty store (``carelog import log``): every event's hash
recomputed as it is read, the file's signed checkpoint checked, and the first event that does
not match refused by position with nothing loaded (the format: ``portable_log``; the loading
at original positions: ``log_loading``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError

from services.integrity.chain import GENESIS, canonical_id, event_bytes, link
from services.integrity.checkpoints import ChainHead, Checkpoint
from services.integrity.log_loading import Row, loading_at_positions
from services.integrity.portable_log import (
    FORMAT,
    NOTES_FLAG,
    PAGE,
    UNSIGNED_FLAG,
    ImportResult,
    LogImportError,
)
from services.integrity.signing_key import key_id, load_public_key

if TYPE_CHECKING:
    from services.bootstrap import CareLog


def import_log(
    carelog: CareLog,
    file: TextIO,
    public_key: Path | None = None,
    *,
    allow_unsigned: bool = False,
) -> ImportResult:
    """Load a store export into this (empty) store, or refuse it naming the first bad
    position. ``public_key`` pins the key the file's checkpoint must be signed with;
    ``allow_unsigned`` takes a file whose events no signed checkpoint covers (all or the
    last ones), which is then not signed here either."""
    recorder: Any = carelog.app.recorder
    if int(recorder.max_notification_id() or 0) or recorder.chain_max_position():
        raise LogImportError(
            "This store is not empty: a log is imported into an empty "
            "store only (point CARELOG_DATABASE_URL at a new one)."
        )
    if carelog.integrity.directory.load() != ([], []):
        raise LogImportError(
            f"The checkpoint directory {carelog.integrity.directory.path} already holds "
            "checkpoints of another store: import into a new one (CARELOG_CHECKPOINT_DIR)."
        )
    lines = _lines(file)
    header = _header(next(lines, (0, {}))[1])
    checkpoint, signer = _checkpoint(header, public_key, allow_unsigned)
    head = checkpoint.chains.get("events") if checkpoint else None
    _import_key_table(carelog, header.get("key_table"))
    try:
        count, last, previous = _load(recorder, lines, head, allow_unsigned)
    except IntegrityError:
        raise LogImportError(
            "Two events in the file claim the same version of one record: it was spliced. "
            "Nothing was imported."
        ) from None
    result = ImportResult(
        count,
        last,
        previous.hex(),
        checkpoint.seq if checkpoint else None,
        head.position if head else None,
        signer,
        public_key is not None,
    )
    if not result.vouched:
        return result  # nothing proven: this store's key does not vouch for it either
    local = carelog.integrity.checkpoint()
    return replace(result, local_checkpoint_seq=local.seq if local else None)


def _import_key_table(carelog: CareLog, exported: dict[str, Any] | None) -> None:
    """An envelope-encrypted log's wrapped data keys, taken in before its events (refused,
    with nothing imported, unless this store has the KEKs that wrap them)."""
    from services.keys.keyring import importable
    from services.keys.table import import_rows

    problem = importable(carelog.keyring, exported)
    if problem is not None:
        raise LogImportError(problem + " Nothing was imported.")
    if not exported:
        return
    if carelog.keyring is not None:
        import_rows(carelog.keyring.table, exported)
        return
    from services.keys.table import KeyTable, migrate

    db = carelog.open_event_store_db()  # the key table lives beside the events
    try:
        migrate(db)
        import_rows(KeyTable(db), exported)
    finally:
        db.close()


def _load(
    recorder: Any,
    lines: Iterator[tuple[int, dict[str, Any]]],
    head: ChainHead | None,
    allow_unsigned: bool,
) -> tuple[int, int, bytes]:
    """Check and load the events in one transaction: (count, last position, head link)."""
    count, last, previous, end = 0, 0, GENESIS, None
    attested = head is None or head.position == 0  # the signed head was met in the file
    with loading_at_positions(recorder) as load:
        batch: list[Row] = []
        for number, item in lines:
            if end is not None or item.get("kind") not in ("event", "end"):
                raise LogImportError(f"Line {number} is not an event of this log.", 0, number)
            if item["kind"] == "end":
                end = item
                continue
            if item.get("withheld") or item.get("state") is None:
                raise LogImportError(
                    f"The event at position {item.get('position')} (line {number}) was withheld "
                    f"at export ({item.get('withheld') or 'no state'}): a store cannot be loaded "
                    "without it, its chain covers it. Export the source again with "
                    f"{NOTES_FLAG} to move a store. Nothing was imported.",
                    item["position"] if isinstance(item.get("position"), int) else 0,
                    number,
                )
            position, stored = _event(item, number, last)
            expected = link(
                previous,
                position,
                event_bytes(canonical_id(stored[0]), stored[1], stored[2], stored[3]),
            )
            if item.get("hash") != expected.hex():
                raise LogImportError(
                    f"The event at position {position} does not match its chain hash: it, or "
                    "an event before it, was changed, removed or moved. Nothing was imported.",
                    position,
                    number,
                )
            if not attested and head is not None and position >= head.position:
                if position != head.position or expected.hex() != head.head:
                    raise LogImportError(
                        f"The signed checkpoint disagrees with the file at position "
                        f"{head.position}: events up to it were rewritten with their hashes "
                        "recomputed. Nothing was imported.",
                        head.position,
                        number,
                    )
                attested = True
            batch.append((position, stored, expected))
            if len(batch) >= PAGE:
                load(batch)
                batch = []
            count, last, previous = count + 1, position, expected
        load(batch)
        if end is None:
            raise LogImportError(
                f"The file ends after position {last} without its end line: "
                "it was cut short. Nothing was imported.",
                last + 1,
            )
        if (end.get("events"), end.get("last_position"), end.get("head")) != (
            count,
            last,
            previous.hex(),
        ):
            raise LogImportError(
                "The end line does not match the events before it: the file "
                "was cut or spliced. Nothing was imported.",
                last,
            )
        if not attested:
            assert head is not None
            raise LogImportError(
                f"The file ends at position {last}, but its signed checkpoint vouches for "
                f"events up to {head.position}: it was cut short. Nothing was imported.",
                last + 1,
            )
        covered = head.position if head else 0
        if covered < last and not allow_unsigned:
            raise LogImportError(
                f"The events after position {covered} (up to {last}) are not covered by the "
                "signed checkpoint: they could have been added with their hashes recomputed. "
                "Nothing was imported. Run `carelog checkpoint` on the source and export "
                f"again, or pass {UNSIGNED_FLAG} to import them unvouched.",
                covered + 1,
            )
    return count, last, previous


def _lines(file: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(file, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except ValueError:
            raise LogImportError(f"Line {number} is not JSON.", 0, number) from None
        if not isinstance(item, dict):
            raise LogImportError(f"Line {number} is not a JSON object.", 0, number)
        yield number, item


def _header(header: dict[str, Any]) -> dict[str, Any]:
    if header.get("format") != FORMAT or header.get("kind") != "header":
        raise LogImportError(f"This is not a CareLog log export ({FORMAT}).", 0, 1)
    if header.get("scope") != "store":
        raise LogImportError(
            "This is one patient's export: its chain cannot be checked end to end, so it "
            "cannot be imported as a store. Import a store export (carelog export log).",
            0,
            1,
        )
    return header


def _checkpoint(
    header: dict[str, Any], pinned: Path | None, allow_unsigned: bool
) -> tuple[Checkpoint | None, str | None]:
    if not header.get("checkpoint"):
        if pinned is not None:
            raise LogImportError(
                f"The file carries no signed checkpoint, so nothing in it is signed by the "
                f"pinned key {pinned}. Nothing was imported.",
                0,
                1,
            )
        if not allow_unsigned:
            raise LogImportError(
                "The file carries no signed checkpoint: its events and hashes could have been "
                "rewritten together. Nothing was imported. Run `carelog checkpoint` on the "
                f"source and export again, or pass {UNSIGNED_FLAG} to import it unvouched.",
                0,
                1,
            )
        return None, None
    try:
        checkpoint = Checkpoint.from_json(header["checkpoint"])
        key = (
            load_public_key(pinned)
            if pinned
            else serialization.load_pem_public_key(str(header.get("public_key") or "").encode())
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise LogImportError(f"The file's checkpoint or key is unreadable: {exc}.", 0, 1) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise LogImportError("The file's checkpoint key is not an Ed25519 key.", 0, 1)
    problem = checkpoint.signature_problem(key)
    if problem is not None:
        raise LogImportError(f"The file's checkpoint cannot be trusted: {problem}.", 0, 1)
    return checkpoint, key_id(key)


def _event(item: dict[str, Any], number: int, last: int) -> tuple[int, tuple[Any, ...]]:
    try:
        position = int(item["position"])
        raw_id = str(item["originator_id"])
        try:
            originator: UUID | str = UUID(raw_id)
        except ValueError:
            originator = raw_id
        stored = (
            originator,
            int(item["originator_version"]),
            str(item["topic"]),
            base64.b64decode(item["state"], validate=True),
        )
    except (KeyError, TypeError, ValueError):
        raise LogImportError(f"Line {number} is not a well-formed event.", 0, number) from None
    if position <= last:
        raise LogImportError(
            f"The event at position {position} (line {number}) comes after "
            f"position {last}: the file's events are out of order.",
            position,
            number,
        )
    return position, stored
