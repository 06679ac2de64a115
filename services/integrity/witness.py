"""Copies of each checkpoint kept where the database owner cannot reach: witnesses.

Whoever controls the database and the checkpoint folder can delete the newest checkpoints
(files and database copies together) and rewrite what they covered: nothing signed is left
to disagree. A witness keeps every checkpoint it was shown, so one that was there and is
gone shows:

- a **witness file** (JSON lines, one signed checkpoint per line) that an auditor keeps:
  ``carelog verify --witness FILE`` checks every checkpoint of this store in it is still
  there, unchanged (and uses it as evidence if it is not); ``--update-witness`` appends the
  checkpoints the verification just found good. ``CARELOG_WITNESS_FILE`` has the signer
  append each new checkpoint as it is made (storage the database owner cannot rewrite);
- a **Kafka topic** (``carelog.checkpoints``, keyed by store id) when Kafka is configured:
  each checkpoint is published as it is signed, for anyone to keep.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from services.integrity.checkpoints import Checkpoint

if TYPE_CHECKING:
    from services.feeds.kafka_security import KafkaSecurity

CHECKPOINT_TOPIC = "carelog.checkpoints"
log = logging.getLogger(__name__)


def witness_line(checkpoint: Checkpoint) -> str:
    """One checkpoint as a witness keeps it: its signed JSON, on one line."""
    return json.dumps(checkpoint.as_json(), sort_keys=True)


@dataclass(frozen=True)
class WitnessFile:
    """An append-only file of signed checkpoints (JSON lines), of one store or several."""

    path: Path

    def read(self) -> tuple[list[Checkpoint], list[str]]:
        """The checkpoints in the file, and a description of each line that is not one."""
        checkpoints: list[Checkpoint] = []
        bad: list[str] = []
        if not self.path.exists():
            return checkpoints, bad
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                checkpoints.append(Checkpoint.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                bad.append(f"{self.path.name} line {number}: not a checkpoint ({exc})")
        return checkpoints, bad

    def append(self, checkpoints: list[Checkpoint]) -> int:
        """Append the checkpoints the file does not hold yet (by store and seq); returns
        how many were added."""
        held = {(c.store, c.seq) for c in self.read()[0]}
        new = [c for c in checkpoints if (c.store, c.seq) not in held]
        if not new:
            return 0
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "ab") as out:
            for checkpoint in new:
                out.write((witness_line(checkpoint) + "\n").encode())
            out.flush()
            os.fsync(out.fileno())
        return len(new)


class SignerRecord:
    """The signer's own witness: the newest checkpoint it signed for a store, kept beside
    the signing key (outside the data: ``<key folder>/signed/<store>.json``). The signer
    refuses to continue from an older checkpoint than the one it remembers (the newest were
    removed), and a verification on the signer's machine reads it as a witness."""

    def __init__(self, key_folder: Path, store: str) -> None:
        self.folder = key_folder / "signed"
        self.path = self.folder / f"{store}.json"

    def read(self) -> Checkpoint | None:
        try:
            return Checkpoint.from_json(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s is unreadable: ignored", self.path)
            return None

    def write(self, checkpoint: Checkpoint) -> None:
        if not self.folder.exists():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write((witness_line(checkpoint) + "\n").encode())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)


@dataclass
class KafkaWitness:
    """Publishes each checkpoint to ``carelog.checkpoints`` (created if missing)."""

    bootstrap: str
    _: KW_ONLY
    client_id: str
    replication: int
    security: KafkaSecurity | None = None
    _topic_ready: bool = field(default=False, init=False, repr=False)

    def publish(self, checkpoint: Checkpoint) -> None:
        """Send one checkpoint and wait for the broker's acknowledgement. The value is the
        witness file's line for it: a consumer appending the values to a file has a
        witness file ``carelog verify --witness`` reads."""
        from services.feeds.kafka_client import Producer, ensure_topics

        if not self._topic_ready:  # one partition: the checkpoints stay in order
            ensure_topics(
                self.bootstrap,
                [CHECKPOINT_TOPIC],
                partitions=1,
                replication_factor=self.replication,
                client_id=self.client_id,
                security=self.security,
            )
            self._topic_ready = True
        producer = Producer(
            self.bootstrap, client_id=self.client_id, linger_ms=0, security=self.security
        )
        try:
            producer.send(
                CHECKPOINT_TOPIC,
                (checkpoint.store or "legacy").encode(),
                witness_line(checkpoint).encode(),
            )
            producer.wait_all()
        finally:
            producer.close()
