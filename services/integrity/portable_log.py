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

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.errors import CareLogError

if TYPE_CHECKING:
    pass


FORMAT = "carelog-log/1"


PAGE = 1000


UNSIGNED_FLAG = "--allow-unsigned"


NOTES_FLAG = "--include-psychotherapy-notes"


WITHHELD = "psychotherapy note"


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
