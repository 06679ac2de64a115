"""The Kafka relay: the log is the outbox, and this process empties it onto the topics.

It reads the feed events after its tracked position in batches, publishes each as its
CloudEvents message (key = patient id, so one patient's messages share a partition and
keep their order), waits until the broker has acknowledged every message of the batch,
and only then moves its tracked position (``relay_tracking``, one row per store) past the
batch. So nothing is lost: a message is tracked as sent only once acknowledged; and a
crash re-publishes at most the batch in flight (consumers drop those duplicates by
CloudEvents id). When the broker is down it drops its producer, backs off and retries from
the tracked position. One relay per store: a PostgreSQL advisory lock, or a lock file
beside a SQLite database, held for the relay's lifetime (the operating system releases
either when the process dies, however it dies).
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from domain.errors import RecordErasedError
from projections.sql.table_migrations import Component, Migration, migrate
from services.feeds.feed_contract import STORED_TOPICS, TOPIC_OF, TOPICS
from services.feeds.feed_message import to_cloudevent
from services.feeds.kafka_client import BrokerError, Producer, ensure_topics
from services.feeds.log_watch import LogWatcher
from services.feeds.relay_lock import RelayLock, RelayLockedError, relay_lock

if TYPE_CHECKING:
    from services.bootstrap import CareLog

__all__ = ["Relay", "RelayLockedError", "RelayStats", "tune_collector"]

log = logging.getLogger(__name__)

TRACKING_NAME = "carelog"
"""The tracking row's key: the application's log (one row per store)."""

SCAN_FACTOR = 10
"""A batch passes over at most this many batches' worth of positions: the log also holds
events that never leave (the patient index, psychotherapy notes), and a run of them must
not make one batch read the whole log."""

TRACKING_TABLE = Component(
    "relay_tracking",
    (
        Migration(
            1,
            "the log position up to which the broker acknowledged every feed message",
            (
                "CREATE TABLE IF NOT EXISTS relay_tracking ("
                " name TEXT PRIMARY KEY,"
                " last_position BIGINT NOT NULL,"
                " updated_at TEXT NOT NULL)",
            ),
        ),
    ),
)

STOP_CHECK = 0.25
LOCK_CHECK = 5.0

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


GC_THRESHOLD = (50_000, 20, 20)
"""The relay's garbage-collector thresholds (Python's default: 700, 10, 10)."""


def tune_collector() -> None:
    """Tune the collector for a process that is the relay and nothing else (``carelog
    relay``): it makes and drops tens of thousands of small objects a second (events,
    CloudEvents, kafka-python's records), none of them cycles worth finding early, and at
    Python's default the youngest generation was collected every 700 allocations, about a
    quarter of the mapping's time. Objects made at start-up are frozen out of collections.
    Memory stays bounded: a batch's objects are freed by reference counting when it is
    sent, the collector only ever finds cycles."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


@dataclass
class RelayStats:
    """What the relay has done since it started."""

    batches: int = 0
    published: int = 0
    failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class _Batch:
    """A batch read and serialised, ready to send: it covers positions after..covered."""

    after: int
    covered: int
    records: list[tuple[str, bytes, bytes]]


class Relay:
    """Publishes the log's feed events to Kafka, at least once, in per-patient order."""

    def __init__(
        self,
        carelog: CareLog,
        *,
        batch_size: int | None = None,
        request_timeout: float = 30.0,
        delivery_timeout: float = 120.0,
        backoff: tuple[float, float] = (0.2, 10.0),
        producer_factory: Callable[[], Producer] | None = None,
    ) -> None:
        config = carelog.config
        if not config.kafka_bootstrap:
            raise ValueError("The relay needs CARELOG_KAFKA_BOOTSTRAP (the Kafka brokers).")
        self.carelog = carelog
        self.app = carelog.app
        self.db = carelog.db
        self.bootstrap = config.kafka_bootstrap
        self.batch_size = max(1, batch_size or config.relay_batch_size)
        self.backoff = backoff
        self.stats = RelayStats()
        self._timeouts = (request_timeout, delivery_timeout)
        self._producer_factory = producer_factory or self._kafka_producer
        self._producer: Producer | None = None
        self._position: int | None = None  # loaded from the tracking row on first use
        self._prepared: _Batch | None = None  # the next batch, read while one is in flight
        self._topics = [STORED_TOPICS[event] for event in sorted(STORED_TOPICS)]
        self.watcher = LogWatcher(self.app.recorder)
        self._table_lock = threading.Lock()
        self._table_ready = False

    # -- tracking ----------------------------------------------------------------------------
    def ensure_table(self) -> None:
        with self._table_lock:
            if self._table_ready:
                return
            migrate(self.db, TRACKING_TABLE)  # one process at a time (its advisory lock)
            self._table_ready = True

    @property
    def position(self) -> int:
        """The log position up to which the broker acknowledged every feed message."""
        self.ensure_table()
        row = self.db.query_one(
            "SELECT last_position FROM relay_tracking WHERE name = ?", (TRACKING_NAME,)
        )
        return int(row["last_position"]) if row else 0

    def _save_position(self, position: int) -> None:
        self.db.execute(
            "INSERT INTO relay_tracking (name, last_position, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET last_position = excluded.last_position,"
            " updated_at = excluded.updated_at",
            (TRACKING_NAME, position, datetime.now(UTC).isoformat()),
        )
        self._position = position

    # -- running -----------------------------------------------------------------------------
    def lock(self) -> RelayLock:
        """The one-relay-per-store lock (raises ``RelayLockedError`` when it is taken)."""
        return relay_lock(self.db)

    def run_forever(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set, riding out broker outages. A store error ends it
        (its supervisor restarts it, and it resumes from the tracking row)."""
        with self.lock() as held:
            self._position = self.position
            log.info("relay starting after position %d", self._position)
            delay = self.backoff[0]
            checked = time.monotonic()
            try:
                while not stop.is_set():
                    if time.monotonic() - checked > LOCK_CHECK:
                        held.check()
                        checked = time.monotonic()
                    try:
                        advanced = self.publish_next_batch()
                    except BrokerError as exc:
                        self._failed(exc, delay)
                        stop.wait(delay)
                        delay = min(delay * 2, self.backoff[1])
                        continue
                    delay = self.backoff[0]
                    if not advanced:
                        self.watcher.wait_beyond(self._position, timeout=STOP_CHECK)
            finally:
                self._drop_producer()
                self.watcher.close()

    def publish_next_batch(self) -> int:
        """Publish the next batch and track it once every message is acknowledged; returns
        how many positions the tracked position moved (0: caught up)."""
        if self._position is None:
            self._position = self.position
        after = self._position
        prepared, self._prepared = self._prepared, None
        if prepared is None or prepared.after != after:
            prepared = self._prepare(after)
        if prepared is None:
            return 0
        producer = self.connect()
        for record in prepared.records:
            producer.send(*record)
        # While the broker acknowledges this batch, read and map the next one (the log is
        # immutable, so it cannot go stale). It is only sent after this batch is tracked,
        # so a crash still re-publishes at most the one batch in flight.
        self._prepared = self._prepare(prepared.covered)
        try:
            acknowledged = producer.wait_all()
        except BrokerError:
            self._prepared = None
            raise
        self._save_position(prepared.covered)
        self.stats.batches += 1
        self.stats.published += acknowledged
        return prepared.covered - after

    def _prepare(self, after: int) -> _Batch | None:
        """The feed records after ``after``, mapped and serialised (None: caught up).
        The whole batch is mapped before any of it is sent: the producer's I/O thread then
        does not contend for the interpreter message by message."""
        head = int(self.app.recorder.max_notification_id() or 0)
        if head <= after:
            return None
        end = min(head, after + self.batch_size * SCAN_FACTOR)
        batch = self.app.recorder.select_notifications(
            after, self.batch_size, stop=end, topics=self._topics, inclusive_of_start=False
        )
        covered = int(batch[-1].id) if len(batch) == self.batch_size else end
        records = [r for r in map(self._record, batch) if r is not None]
        return _Batch(after, covered, records)

    def _record(self, notification: Any) -> tuple[str, bytes, bytes] | None:
        """The Kafka record (topic, key, value) for a stored event, or None if it never
        leaves."""
        try:
            event = self.app.mapper.to_domain_event(notification)
        except RecordErasedError:  # an erased patient's events never leave again
            return None
        message = to_cloudevent(event, int(notification.id))
        if message is None:
            return None
        return (TOPIC_OF[message["type"]], message["subject"].encode(), _encode(message).encode())

    def connect(self) -> Producer:
        """The producer, connecting (and creating missing topics) if there is none."""
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _kafka_producer(self) -> Producer:
        """Create the missing topics (again after a broker restart), then connect."""
        config = self.carelog.config
        request_timeout, delivery_timeout = self._timeouts
        log.info("connecting to %s (%s)", self.bootstrap, config.kafka_security.describe())
        config.kafka_security.warn_if_insecure(self.bootstrap)
        created = ensure_topics(
            self.bootstrap,
            TOPICS,
            partitions=config.kafka_partitions,
            replication_factor=config.kafka_replication,
            client_id=config.kafka_client_id,
            timeout=request_timeout,
            security=config.kafka_security,
        )
        if created:
            log.info("created topics %s", ", ".join(created))
        return Producer(
            self.bootstrap,
            client_id=config.kafka_client_id,
            request_timeout=request_timeout,
            delivery_timeout=delivery_timeout,
            security=config.kafka_security,
        )

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=1.0)

    def _failed(self, exc: BrokerError, delay: float) -> None:
        self.stats.failures += 1
        self.stats.last_error = str(exc)
        log.warning(
            "publishing failed (%s); retrying after position %s in %.1f s",
            exc,
            self._position,
            delay,
        )
        self._drop_producer()
