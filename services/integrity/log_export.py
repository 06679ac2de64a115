"""Writing the portable log (``carelog export log``): a store's or one patient's stored events with
their chain links, after a checkpoint signed over them when this store holds its key, and with
psychotherapy notes withheld unless asked for by name (the format: ``portable_log``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from cryptography.hazmat.primitives import serialization

from services.integrity.chain import GENESIS
from services.integrity.chain_heads import IntegrityViolation
from services.integrity.checkpoints import Checkpoint
from services.integrity.portable_log import FORMAT, PAGE, WITHHELD, ExportResult

if TYPE_CHECKING:
    from services.bootstrap import CareLog


_NOTE_TOPICS = ("carelog.NoteAdded", "carelog.EntryCorrected")


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
