"""The records this process keeps in memory between commands (``CARELOG_RECORD_CACHE``),
each behind its patient's lock.

The cached record is the one object commands change in place: a command holds its lock
from loading the record to its save, a reader while it takes what it needs. Each use
brings the record up to date from the log first (another process's writes are never
missed), and a command that fails throws the cached copy away (``forget``), so a decision
that was not saved never lingers in memory.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.errors import NotFoundError, RecordErasedError
from domain.patient_record import PatientRecord
from services.keys.keyring import KeyRing


class RecordCache:
    """Per-patient locks and the repository's cached records, for ``CareLogApplication``."""

    def __init__(self, repository: Repository[UUID], keyring: KeyRing | None) -> None:
        self.repository = repository
        self.keyring = keyring
        self._locks: weakref.WeakValueDictionary[UUID, Any] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def lock_for(self, pid: UUID) -> Any:
        """The patient's lock (re-entrant), kept while anyone holds it."""
        with self._locks_guard:
            lock = self._locks.get(pid)
            if lock is None:
                lock = self._locks[pid] = threading.RLock()
            return lock

    def cached(self, pid: UUID) -> PatientRecord:
        """The cached record as this process last brought it up to date (loaded if none)."""
        cache = self.repository.cache
        if cache is not None:
            try:
                record = cache.get(pid)
            except KeyError:
                pass
            else:
                if isinstance(record, PatientRecord):
                    return record
        return self.current(pid)

    def current(self, pid: UUID) -> PatientRecord:
        """The cached record brought up to date (held under the patient's lock)."""
        return self.load(pid, deepcopy_from_cache=False)

    def load(self, pid: UUID, **options: Any) -> PatientRecord:
        """The repository's record (``options`` as ``Repository.get`` takes them), or
        NotFoundError for an id that is no patient (``RecordErasedError`` for an erased
        one: its cached copy, if any, is never served again)."""
        if self.keyring is not None:
            try:
                self.keyring.check_readable(pid)
            except RecordErasedError:
                self.forget(pid)
                raise
        try:
            record: Any = self.repository.get(pid, **options)
        except AggregateNotFoundError:
            raise NotFoundError(f"There is no patient {pid}.", "patient_id") from None
        if not isinstance(record, PatientRecord):
            raise NotFoundError(f"There is no patient {pid}.", "patient_id")
        return record

    def forget(self, pid: UUID) -> None:
        """Drop the cached record: it holds a decision that was not saved."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(pid, evict=True)
