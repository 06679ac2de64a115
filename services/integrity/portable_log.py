"""The portable log: CareLog's stored events as NDJSON, with their chain hashes, to move a
store or hand it to an auditor, and the import that refuses a tampered file.

Format ``carelog-log/1``, one JSON object per line:

- a header: ``scope`` ("store" or "patient"), the export time, the latest signed
  checkpoint and the public key it was signed with (so an importer knows what to check
  before it reads an event);
- one line per stored event in position order: ``position``, ``originator_id``,
  ``originator_version``, ``topic``, ``state`` (the stored bytes, base64: encrypted when the
  store uses a cipher) and ``hash``, the stored chain link at that position;
- an end line: the number of events, the last position and the head link.

Export first signs a checkpoint over the current heads when this store holds its signing
key, and writes the events up to it, so the file's head is vouched for by a signature.

A *store* export holds every stored event (patient records and the patient index), so its
chain can be recomputed from the first event to the last and compared with every hash and
with the signed checkpoint. A *patient* export holds one patient's events, each with the
link at the position before it (``previous``): every event's hash can be recomputed from its
own bytes and that link, and compared with the store's chain (or a store export) position
by position. What it cannot show on its own is that no event was left out, nor that its
links lead to the signed checkpoint: the other patients' events in between are not in it.
So only a store export can be imported.

Import loads a store export into an *empty* store in one transaction: each event's hash is
recomputed as it is read, and the first one that does not match (an edited, removed or
reordered event) stops the import, names its position and leaves the store empty. Events go
in at their original positions, with their topics and stored bytes untouched and their chain
links beside them, exactly as the recorder stored them at the source.

Psychotherapy notes are left out unless the operator asks for them by name
(``--include-psychotherapy-notes``): the header records the choice
(``psychotherapy_notes``: "withheld" or "included"), and each withheld event, a
psychotherapy note or a correction of one, keeps its line with its position, record,
version, topic and chain hash but ``"state": null`` and ``"withheld": "psychotherapy note"``;
the end line counts them. Such a file is for reading and checking: every other event's
hash is still recomputed from its bytes, from the withheld event's link, so the chain
around a withheld event and the signed head still hold. It cannot be imported: the chain
covers each event's exact bytes, so a store loaded without them would hold records missing
entries (their versions would not follow) and a chain ``carelog verify`` would fail, and a
placeholder in their place would be a rewrite. Import refuses such a file at the first
withheld event, naming the flag; to move a store, export it with the notes.

Recomputed hashes only show the file is self-consistent: whoever edits it can recompute them
all. So the file must carry a checkpoint whose signature holds and whose events head is the
file's last event; a file with none, or with events after it, is refused unless the operator
opts in (``allow_unsigned``). With a pinned key the checkpoint must be signed by it. A
verified import then signs a checkpoint with this store's own key (the source's checkpoint
cannot be copied: it is signed with the source's key and names the source's access log).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError

from domain.errors import CareLogError
from services.integrity.chain import GENESIS, canonical_id, event_bytes, link
from services.integrity.checkpoints import ChainHead, Checkpoint, key_id, load_public_key
from services.integrity.log_loading import Row, loading_at_positions
from services.integrity.service import IntegrityViolation

if TYPE_CHECKING:
    from services.bootstrap import CareLog

FORMAT = "carelog-log/1"
PAGE = 1000
UNSIGNED_FLAG = "--allow-unsigned"
NOTES_FLAG = "--include-psychotherapy-notes"
WITHHELD = "psychotherapy note"
_NOTE_TOPICS = ("carelog.NoteAdded", "carelog.EntryCorrected")


class LogImportError(CareLogError):
    """A portable log CareLog will not load; ``position`` is the first bad event's position
    (0 when the problem is not one event's) and ``line`` its line in the file."""

    def __init__(self, message: str, position: int = 0, line: int = 0) -> None:
        super().__init__(message, "file")
        self.position = position
        self.line = line


@dataclass(frozen=True)
class ImportResult:
    """What was loaded, and what vouched for it."""

    events: int
    last_position: int
    head: str
    checkpoint_seq: int | None
    checkpoint_position: int | None
    key_id: str | None
    key_pinned: bool  # the checkpoint was checked against a key the operator supplied
    local_checkpoint_seq: int | None = None  # signed here, with this store's key, after it

    @property
    def vouched(self) -> bool:
        """A signed checkpoint in the file covered every event imported."""
        return self.checkpoint_position is not None and self.checkpoint_position == (
            self.last_position
        )


@dataclass(frozen=True)
class ExportResult:
    """What was written, and how far the header's signed checkpoint covers it."""

    events: int
    last_position: int  # of the store's events up to which the file was written
    checkpoint_position: int | None
    withheld: int = 0  # psychotherapy notes (and their corrections) left out

    @property
    def vouched(self) -> bool:
        return self.checkpoint_position is not None and (
            self.checkpoint_position >= self.last_position
        )


# -- export ----------------------------------------------------------------------------------
def export_log(
    carelog: CareLog,
    out: TextIO,
    patient_id: str | None = None,
    *,
    sign: bool = True,
    include_psychotherapy_notes: bool = False,
) -> ExportResult:
    """Write the stored events (all, or one patient's) to ``out``.

    With ``sign`` (and this store's signing key at hand) a checkpoint is signed first and
    the events up to it are written, so the checkpoint covers the file's head; otherwise
    the latest checkpoint goes in the header and later events follow it unvouched.
    Psychotherapy notes are withheld unless ``include_psychotherapy_notes``."""
    recorder: Any = carelog.app.recorder
    patient = str(carelog.app.get_record(patient_id).id) if patient_id else None
    checkpoint = _signed_now(carelog) if sign else None
    if checkpoint is not None and "events" in checkpoint.chains:
        upto = checkpoint.chains["events"].position
    else:  # read the checkpoint before the head: it never passes it
        checkpoint = carelog.integrity.directory.latest()
        upto = int(recorder.max_notification_id() or 0)
    public = carelog.integrity.public_key()
    header = {
        "format": FORMAT,
        "kind": "header",
        "scope": "patient" if patient else "store",
        "patient_id": patient,
        "exported_at": datetime.now(UTC).isoformat(),
        "encrypted": bool(carelog.config.cipher_key),
        "psychotherapy_notes": "included" if include_psychotherapy_notes else "withheld",
        "checkpoint": checkpoint.as_json() if checkpoint else None,
        "public_key": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        if public
        else None,
    }
    if carelog.keyring is not None:  # envelope encryption: the wrapped data keys go along
        from services.keys.table import export_rows

        header["key_table"] = export_rows(carelog.keyring.table, patient)
    out.write(json.dumps(header) + "\n")
    count, last, previous = 0, 0, GENESIS
    notes = _PsychotherapyNotes(carelog)
    withheld = 0
    for notification, stored_link in _stored(recorder, upto):
        hidden = not include_psychotherapy_notes and notes.holds(notification)
        if patient is None or str(notification.originator_id) == patient:
            line = {
                "kind": "event",
                "position": notification.id,
                "originator_id": str(notification.originator_id),
                "originator_version": notification.originator_version,
                "topic": notification.topic,
                "state": None if hidden else base64.b64encode(notification.state).decode(),
                "hash": stored_link.hex() if stored_link is not None else None,
            }
            if hidden:
                line["withheld"] = WITHHELD
                withheld += 1
            if patient is not None:
                line["previous"] = previous.hex()
            out.write(json.dumps(line) + "\n")
            count, last = count + 1, notification.id
        previous = stored_link if stored_link is not None else previous
    end = {
        "kind": "end",
        "events": count,
        "last_position": last,
        "head": previous.hex() if patient is None else None,
        "withheld": withheld,
    }
    out.write(json.dumps(end) + "\n")
    signed = checkpoint.chains.get("events") if checkpoint else None
    return ExportResult(count, upto, signed.position if signed else None, withheld)


class _PsychotherapyNotes:
    """Which stored events hold psychotherapy note content: the notes themselves and any
    correction of one (which may carry corrected text). Only events with a note's or a
    correction's topic are decoded (through the application, so an encrypted store's too);
    a correction always comes after the note it corrects."""

    def __init__(self, carelog: CareLog) -> None:
        self.mapper = carelog.app.mapper
        self.note_ids: set[str] = set()

    def holds(self, notification: Any) -> bool:
        if notification.topic not in _NOTE_TOPICS:
            return False
        event = self.mapper.to_domain_event(notification)
        if notification.topic == _NOTE_TOPICS[0]:
            if getattr(event, "kind", None) == "psychotherapy":
                self.note_ids.add(str(getattr(event, "event_id", "")))
                return True
            return False
        return str(getattr(event, "corrected_event_id", "")) in self.note_ids


def _signed_now(carelog: CareLog) -> Checkpoint | None:
    """A checkpoint over the current heads, if this store holds its key and verifies."""
    try:
        if carelog.integrity.key.private_key(create=False) is None:
            return None
        return carelog.integrity.checkpoint()
    except (IntegrityViolation, OSError, ValueError):
        return None  # the import will say what the latest checkpoint does not cover


def _stored(recorder: Any, upto: int) -> Iterator[tuple[Any, bytes | None]]:
    """Every stored event up to ``upto`` with its stored chain link (None if it has none)."""
    after = 0
    while after < upto:
        page = recorder.select_notifications(after + 1, PAGE, stop=upto)
        if not page:
            return
        links = dict(recorder.select_chain_links(after, page[-1].id))
        for notification in page:
            found = links.get(notification.id)
            yield notification, bytes(found) if found is not None else None
        after = page[-1].id


# -- import ----------------------------------------------------------------------------------
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
