"""The CareLog application: the eventsourcing ``Application`` and its write path.

Every command loads the patient's record, lets the aggregate decide, runs the safety
rules over the plan after the change, and saves the new events in one transaction.
Commands given an expected version fail with ``VersionConflictError`` if the record has
moved on; commands without one reload and retry on a conflict, so concurrent writers never
lose an update.

Each process keeps the records it has used in memory, each behind its patient's lock, and
brings one up to date from the log each time it is used (``record_cache``). A command that
fails for any reason throws the cached record away, so a decision that was not saved never
lingers in memory.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Transcoder,
)

from domain.command_context import CommandContext
from domain.commands import RegisterPatient
from domain.errors import (
    DuplicateError,
    NotFoundError,
    VersionConflictError,
    WriteContentionError,
)
from domain.patient_index import PatientIndex, index_id
from domain.patient_record import PatientRecord
from services.keys.keyring import KeyRing
from services.writing.group_commit import GroupCommitter
from services.writing.record_cache import RecordCache
from services.writing.snapshotter import Snapshotter
from services.writing.transcoder import FastJSONTranscoder, PlanStateAsDict
from services.writing.write_result import WriteResult as WriteResult  # where callers import it

MAX_RETRIES = 50
T = TypeVar("T")


Action = Callable[[PatientRecord], "str | tuple[str, dict[str, str]]"]
SafetyHook = Callable[[PatientRecord, Any, CommandContext, "str | None"], list[dict[str, Any]]]


class CareLogApplication(Application[UUID]):
    """The patient records, stored in SQLite or PostgreSQL by configuration."""

    name = "carelog"
    snapshotting_intervals = {PatientRecord: 50}  # noqa: RUF012 - the library's class variable

    def __init__(
        self,
        env: dict[str, str] | None = None,
        snapshot_interval: int = 50,
        keyring: KeyRing | None = None,
    ) -> None:
        self.keyring = keyring  # envelope encryption, per-patient keys (services/keys)
        # Per instance: the library reads ``self.snapshotting_intervals`` when it saves, and
        # changing the class variable would leak one app's interval into every later app.
        vars(self)["snapshotting_intervals"] = {PatientRecord: snapshot_interval}
        super().__init__(env)
        self.safety_hook: SafetyHook | None = None
        self.committer: GroupCommitter | None = None
        self.snapshotter: Snapshotter | None = None
        self.saver: Callable[..., Any] = self.save
        self.record_cache = RecordCache(self.repository, keyring)

    def enable_group_commit(self, window_seconds: float) -> GroupCommitter:
        """Save concurrent commands in shared transactions (see services.writing.group_commit)."""
        self.committer = GroupCommitter(self.save, window_seconds)
        self.saver = self.committer.save
        return self.committer

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot a record that passed a multiple of the interval from the object just
        saved (the library would read it back from the store first: a decode of the last
        snapshot and the events since, about half a snapshot's cost on a long record)."""
        interval = self.snapshotting_intervals.get(PatientRecord)
        if self.snapshots is None or not interval:
            return
        crossed = {
            e.originator_id for e in processing_event.events if e.originator_version % interval == 0
        }
        for aggregate_id in crossed:
            aggregate = processing_event.aggregates.get(aggregate_id)
            if not isinstance(aggregate, PatientRecord):
                continue
            snapshot = PatientRecord.Snapshot.take(aggregate)
            if self.snapshotter is None:
                self.snapshots.put([snapshot])
            else:  # encoded later, while the record moves on: hand over a branch of the plan
                snapshot.state["plan"] = aggregate.plan.branch()
                self.snapshotter.submit(snapshot)

    def write_snapshots_in_background(self) -> Snapshotter:
        """Write snapshots off the write path (see services.writing.snapshotter)."""
        assert self.snapshots is not None
        self.snapshotter = Snapshotter(self.snapshots.put)
        return self.snapshotter

    def flush_snapshots(self) -> None:
        """Wait for the snapshots queued so far (a no-op when they are written in line)."""
        if self.snapshotter is not None:
            self.snapshotter.flush()

    def construct_mapper(self) -> Mapper[UUID]:
        """With a key ring, each record is encrypted under its patient's data key."""
        from services.keys.mapper import EnvelopeMapper, GuardedMapper

        if self.keyring is None:
            plain = super().construct_mapper()
            return GuardedMapper(plain.transcoder, plain.compressor, plain.cipher)

        return EnvelopeMapper(self.construct_transcoder(), self.keyring)

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON format, decoded with orjson (``services.writing.transcoder``)."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(PlanStateAsDict())

    # -- reading ---------------------------------------------------------------------------
    def get_record(self, patient_id: str | UUID, version: int | None = None) -> PatientRecord:
        """A private copy of the record (now, or at ``version``) for the caller to keep."""
        if version is None:
            return self.read_record(patient_id, copy.deepcopy)
        return self.record_cache.load(_uuid(patient_id), version=version)

    def read_record(
        self,
        patient_id: str | UUID,
        read: Callable[[PatientRecord], T],
        *,
        catch_up: bool = True,
    ) -> T:
        """``read(record)`` on the current record, under its lock: what ``read`` returns
        must not share anything a later command could change (build it, or copy it).

        ``catch_up=False`` takes the cached record as this process last brought it up to
        date (a request reading again what its own access check just caught up with)."""
        pid = _uuid(patient_id)
        with self.record_cache.lock_for(pid):
            cache = self.record_cache
            return read(cache.current(pid) if catch_up else cache.cached(pid))

    def find_by_external_id(self, external_id: str) -> str | None:
        try:
            index: Any = self.repository.get(index_id(external_id))
        except AggregateNotFoundError:
            return None
        return str(index.patient_id)

    # -- writing ---------------------------------------------------------------------------
    def register_patient(self, ctx: CommandContext, command: RegisterPatient) -> WriteResult:
        """Register a patient (the registering clinician joins the care team)."""
        patient_id = uuid4()
        record: PatientRecord = PatientRecord.register(ctx, command, patient_id=patient_id)
        index = PatientIndex.create(record.plan.patient.external_id, str(patient_id))
        first_event = record.pending_events[0].event_id  # type: ignore[attr-defined]
        try:
            recordings = self.saver(record, index)
        except IntegrityError:
            raise DuplicateError(
                f"A patient with external id {record.plan.patient.external_id!r} "
                "is registered already.",
                "external_id",
            ) from None
        return WriteResult(
            event_id=first_event,
            patient_id=str(patient_id),
            version=record.version,
            position=recordings[0].notification.id,
            last_position=recordings[-1].notification.id,
        )

    def write(
        self,
        patient_id: str | UUID,
        ctx: CommandContext,
        action: Action,
        *,
        expected_version: int | None = None,
        change: Callable[[PatientRecord, str], Any] | None = None,
        override_reason: str | None = None,
        after: Callable[[PatientRecord, str], None] | None = None,
    ) -> WriteResult:
        """Run one command against a patient's record and save what it decided.

        ``change`` describes the write for the safety rules; ``after`` may add follow-on
        events (e.g. the check-in after a dose change) in the same transaction.
        """
        pid = _uuid(patient_id)
        for attempt in range(MAX_RETRIES):
            with self.record_cache.lock_for(pid):
                try:
                    saved = self._decide_and_save(
                        pid, ctx, action, expected_version, change, override_reason, after
                    )
                except BaseException:
                    self.record_cache.forget(pid)
                    raise
                if saved is not None:
                    return saved
                self.record_cache.forget(pid)  # another writer got there first: load it again
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise WriteContentionError(MAX_RETRIES)

    def _decide_and_save(
        self,
        pid: UUID,
        ctx: CommandContext,
        action: Action,
        expected_version: int | None,
        change: Callable[[PatientRecord, str], Any] | None,
        override_reason: str | None,
        after: Callable[[PatientRecord, str], None] | None,
    ) -> WriteResult | None:
        """One attempt (under the patient's lock): None if another writer saved first."""
        if self.committer is not None:
            self.committer.deciding()
        try:
            record = self.record_cache.current(pid)
            if expected_version is not None and record.version != expected_version:
                raise VersionConflictError(expected_version, record.version)
            outcome = action(record)
            event_id, ids = outcome if isinstance(outcome, tuple) else (outcome, {})
            alerts: list[dict[str, Any]] = []
            if change is not None and self.safety_hook is not None:
                alerts = self.safety_hook(record, change(record, event_id), ctx, override_reason)
            if after is not None:
                after(record, event_id)
            version = record.version
        finally:
            if self.committer is not None:
                self.committer.decided()
        try:
            recordings = self.saver(record)
        except IntegrityError:
            if expected_version is not None:
                self.record_cache.forget(pid)
                latest = self.record_cache.current(pid).version
                raise VersionConflictError(expected_version, latest) from None
            return None
        return WriteResult(
            event_id=event_id,
            patient_id=str(record.id),
            version=version,
            position=next(
                r.notification.id
                for r in recordings
                if getattr(r.domain_event, "event_id", None) == event_id
            ),
            last_position=recordings[-1].notification.id,
            ids=ids,
            alerts=alerts,
        )


def _uuid(value: str | UUID) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise NotFoundError(f"There is no patient {value}.", "patient_id") from None
