"""CareLog's audit integrity, as the rest of CareLog calls it: checkpoint, verify, status.

``CareLog.integrity`` (services/bootstrap.py) is one of these. ``checkpoint()`` is cheap
(it re-verifies and witnesses only what was written since the previous checkpoint) and
can run as often as wanted; ``verify()`` walks the whole log; ``verify_new()`` continues
from the last verification; ``status()`` is what /readyz reports (the last verified
position and the newest checkpoint); ``checkpoint_forever()`` runs in a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.integrity.chain_heads import IntegrityViolation, advance, latest_checkpoint
from services.integrity.checkpoint_directory import CheckpointDirectory
from services.integrity.checkpoints import ChainHead, Checkpoint, CheckpointRecords
from services.integrity.heartbeat import write_heartbeat
from services.integrity.signing_key import SigningKey, key_id
from services.integrity.verify import Verifier
from services.integrity.verify_result import VerifyResult
from services.integrity.walk import ChainSource
from services.integrity.witness import KafkaWitness, SignerRecord, WitnessFile

log = logging.getLogger(__name__)


class Integrity:
    """Checkpoints and verification over CareLog's chains (the event log, the access log)."""

    def __init__(
        self,
        sources: Callable[[], dict[str, ChainSource]],
        checkpoint_dir: Path,
        signing_key: Path | None = None,
        *,
        records: Callable[[], CheckpointRecords] | None = None,
        legacy_key: Path | None = None,
        interval: float = 60.0,
        grace: float = 60.0,
        witness_file: Path | None = None,
        kafka: KafkaWitness | None = None,
        old_default_folder: Path | None = None,
        own_folder: bool = False,
    ) -> None:
        self._sources = sources
        self._records = records
        self.directory = CheckpointDirectory(checkpoint_dir)
        self.key = SigningKey(
            signing_key or checkpoint_dir.parent / "signing.key", checkpoint_dir, legacy_key
        )
        self.interval = interval
        self.grace = grace
        self.witness_file = WitnessFile(witness_file) if witness_file else None
        self.kafka = kafka
        self.old_default_folder = old_default_folder
        self.own_folder = own_folder  # the store's own default folder (sequence.py)

    @property
    def sources(self) -> dict[str, ChainSource]:
        return self._sources()

    @property
    def records(self) -> CheckpointRecords | None:
        return self._records() if self._records is not None else None

    def public_key(self, pinned: Path | None = None) -> Ed25519PublicKey | None:
        return self.key.trusted_public_key(pinned)

    # -- checkpoints -----------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint | None:
        """Sign the chains' current heads (unless nothing moved since the last checkpoint).

        Only what was written since the previous checkpoint is re-verified and witnessed;
        a log that does not verify there is not signed (``IntegrityViolation``).
        """
        private = self.key.private_key()
        assert private is not None
        records = self.records
        store = records.store_id() if records is not None else None
        with self.directory.locked():
            latest = latest_checkpoint(self.directory, records, store, private.public_key())
            remembered = self._signer_record(store)
            mine = remembered.read() if remembered is not None else None
            if mine is not None and (
                latest is None
                or latest.seq < mine.seq
                or (latest.seq == mine.seq and not latest.same_as(mine))
            ):
                raise IntegrityViolation(
                    f"Checkpoint {mine.seq}, signed here, is gone from {self.directory.path} "
                    f"and the database (the newest there: "
                    f"{latest.seq if latest else 'none'}): the newest checkpoints were "
                    "removed or replaced. Run `carelog verify`. No checkpoint signed.",
                    [],
                )
            heads: dict[str, ChainHead] = {}
            for name, source in self.sources.items():
                heads[name] = advance(self.directory, name, source, latest)
            if latest is not None and latest.chains == heads:
                # Nothing moved: renew "still the newest" (heartbeat.py), so the first
                # write after a quiet spell is not taken for an overdue checkpoint.
                write_heartbeat(self.directory.path, latest, private)
                return latest
            if not any(head.position for head in heads.values()) and latest is None:
                return None  # an empty store: nothing to vouch for yet
            checkpoint = Checkpoint(
                seq=(latest.seq + 1) if latest else 1,
                time=datetime.now(UTC).isoformat(),
                chains=heads,
                previous=latest.digest() if latest else None,
                key_id=key_id(private.public_key()),
                store=store,
                interval=float(self.interval) if store is not None else None,
            ).signed(private)
            path = self.directory.write(checkpoint)
            if records is not None:
                records.insert_checkpoint(checkpoint.seq, checkpoint.body())
            if remembered is not None:
                remembered.write(checkpoint)
            log.info(
                "checkpoint %s written: %s",
                checkpoint.seq,
                {n: h.position for n, h in heads.items()},
            )
            checkpoint = replace(checkpoint, path=path)
        self._witness(checkpoint)
        return checkpoint

    def _signer_record(self, store: str | None) -> SignerRecord | None:
        return SignerRecord(self.key.path.parent, store) if store is not None else None

    def _witness(self, checkpoint: Checkpoint) -> None:
        """Hand a new checkpoint to the configured witnesses. A witness that cannot take
        it is logged, not fatal: the checkpoint is signed and kept; the next verification
        against the witness names what it lacks."""
        if self.witness_file is not None:
            try:
                self.witness_file.append([checkpoint])
            except OSError:
                log.exception("checkpoint %s: witness file not written", checkpoint.seq)
        if self.kafka is not None:
            try:
                self.kafka.publish(checkpoint)
            except Exception:
                log.exception("checkpoint %s: not published to Kafka", checkpoint.seq)

    # -- verification ----------------------------------------------------------------------
    def verify(
        self,
        from_position: int | None = None,
        *,
        public_key: Path | None = None,
        record: bool = True,
        starts: dict[str, int] | None = None,
        strict: bool = False,
        allow_unsigned_tail: bool = False,
        witness: Path | None = None,
        update_witness: bool = False,
    ) -> VerifyResult:
        """Verify every chain and checkpoint; record the outcome for /readyz.

        ``public_key`` pins the key checkpoints must be signed with; with it (or under
        ``strict``) records past the newest checkpoint for longer than its interval plus
        the grace fail (an unsigned tail) unless ``allow_unsigned_tail``; ``strict`` also
        fails a result no pinned key vouches for. ``witness`` is an auditor's witness file
        (witness.py); ``update_witness`` appends the checkpoints found good to it."""
        records = self.records
        store = records.store_id() if records is not None else None
        witness_file = WitnessFile(witness) if witness is not None else None
        remembered = self._signer_record(store)
        verifier = Verifier(
            self.sources,
            self.directory,
            self.public_key(public_key),
            records=records,
            store=store,
            pinned=public_key is not None,
            strict=strict,
            allow_unsigned_tail=allow_unsigned_tail,
            interval=self.interval,
            grace=self.grace,
            witness=witness_file,
            witness_required=not update_witness,
            signer_record=remembered.read() if remembered is not None else None,
            own_folder=self.own_folder,
        )
        result = verifier.run(from_position, starts=starts)
        old = self.old_default_folder
        if old is not None and result.checkpoints == 0 and any(old.glob("checkpoint-*.json")):
            result.warnings.append(
                f"{old} (the default checkpoint folder before each store had its own) holds "
                f"checkpoints: if they are this store's, move them to {self.directory.path} "
                f"or set CARELOG_CHECKPOINT_DIR={old}"
            )
        if record:
            self.directory.write_verified(self._mark(result))
        if update_witness and witness_file is not None and result.ok:
            result.witnessed = witness_file.append([c for c in verifier.trusted if not c.legacy])
        return result

    def verify_new(self) -> VerifyResult:
        """Verify from where the last good verification stopped (cheap; for routine use).
        Each chain (the event log, the access log) starts after the head that verification
        recorded, if the stored link there still matches it; otherwise from its start.
        Without a good mark, everything is verified.
        """
        mark = self.directory.read_verified() or {}
        if not mark.get("ok"):
            return self.verify()
        starts: dict[str, int] = {}
        for name, source in self.sources.items():
            head = (mark.get("chains") or {}).get(name) or {}
            position, link = int(head.get("head_position") or 0), head.get("head")
            stored = source.chain_link_before(position + 1) if position and link else None
            if link and stored == (position, bytes.fromhex(link)):
                starts[name] = position + 1
        return self.verify(starts=starts) if starts else self.verify()

    def last_verified(self) -> dict[str, Any] | None:
        """The last verification's outcome: ``{"ok", "time", "verified_position",
        "first_problem", ...}``, or None if CareLog was never verified here."""
        return self.directory.read_verified()

    def status(self) -> dict[str, Any]:
        """For /readyz, cheap (two small files): the last verified position and outcome,
        and the newest checkpoint."""
        mark = self.last_verified() or {}
        latest = self.directory.latest()
        return {
            "verified_position": mark.get("verified_position"),
            "verified_from": ((mark.get("chains") or {}).get("events") or {}).get("start"),
            "verified_ok": mark.get("ok"),
            "verified_at": mark.get("time"),
            "first_problem": mark.get("first_problem"),
            "checkpoint": None
            if latest is None
            else {
                "seq": latest.seq,
                "time": latest.time,
                "positions": {name: head.position for name, head in latest.chains.items()},
            },
        }

    def checkpoint_forever(self, interval: float, stop: threading.Event) -> None:
        """Every ``interval`` seconds until ``stop`` is set (for a worker thread):
        checkpoint, then ``verify_new()`` so /readyz stays current. Nothing is written
        while the chains stand still (``checkpoint()`` returns the latest one unchanged,
        and what it vouches for was verified already). A log that does not verify is
        logged, not signed, and tried again next time."""
        verified: Checkpoint | None = None  # the newest checkpoint verified good here
        while not stop.wait(interval):
            try:
                checkpoint = self.checkpoint()
                if checkpoint is not None and checkpoint == verified:
                    continue
                result = self.verify_new()
                if result.ok:
                    verified = checkpoint
                else:
                    log.error("audit log verification failed: %s", result.first_problem)
            except IntegrityViolation as exc:
                log.error("audit checkpoint refused: %s", exc)
            except Exception:
                log.exception("audit checkpoint failed; retrying in %ss", interval)

    @staticmethod
    def _mark(result: VerifyResult) -> dict[str, Any]:
        data = result.as_dict()
        data["problems"] = data["problems"][:20]
        return data
