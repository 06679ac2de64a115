"""Kafka behind one small, typed surface (kafka-python itself is untyped).

Every setting that carries a delivery guarantee is spelled out here rather than left to a
default: kafka-python turns idempotence off without a word if another setting conflicts,
and its consumers read uncommitted records and auto-commit unless told otherwise. Any
failure the client raises becomes ``BrokerError``, so callers handle one exception.
Nothing here knows which broker it talks to: it runs unchanged against Apache Kafka.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from services.feeds.kafka_security import KafkaSecurity

PARTITION_CACHE = 100_000
"""Keys (patients) whose partition a producer remembers."""


class BrokerError(Exception):
    """The broker could not be reached in time, or refused a request."""


@contextmanager
def _broker_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except BrokerError:
        raise
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"{doing}: {type(exc).__name__}: {exc}") from exc


def _security(security: KafkaSecurity | None) -> dict[str, Any]:
    """TLS and SASL settings (services/feeds/kafka_security.py); none: plaintext."""
    return (security or KafkaSecurity()).client_kwargs()


def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    client_id: str = "carelog",
    timeout: float = 10.0,
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns those created. Existing topics are
    left as they are (their partition count is the operator's decision)."""
    created: list[str] = []
    with _broker_errors("creating topics"):
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            request_timeout_ms=int(timeout * 1000),
            bootstrap_timeout_ms=int(timeout * 1000),
            **_security(security),
        )
        try:
            existing = set(admin.list_topics())
            for topic in topics:
                if topic in existing:
                    continue
                try:
                    admin.create_topics(
                        [NewTopic(topic, partitions, replication_factor)],
                        timeout_ms=int(timeout * 1000),
                    )
                    created.append(topic)
                except TopicAlreadyExistsError:  # another process won the race
                    pass
        finally:
            admin.close()
    return created


class Producer:
    """An idempotent producer: ``acks='all'``, at most 5 requests in flight, so retries
    neither duplicate nor reorder records within a partition. Batches fill for up to
    ``linger_ms`` while records keep coming; ``wait_all`` flushes at once, so lingering
    never delays the last record of a burst."""

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "carelog",
        request_timeout: float = 30.0,
        delivery_timeout: float = 120.0,
        linger_ms: int = 50,
        batch_bytes: int = 256 * 1024,
        security: KafkaSecurity | None = None,
    ) -> None:
        with _broker_errors("connecting the producer"):
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap,
                client_id=client_id,
                enable_idempotence=True,
                acks="all",
                max_in_flight_requests_per_connection=5,
                linger_ms=linger_ms,
                batch_size=batch_bytes,
                request_timeout_ms=int(request_timeout * 1000),
                delivery_timeout_ms=int(delivery_timeout * 1000),
                max_block_ms=int(request_timeout * 1000),
                bootstrap_timeout_ms=int(request_timeout * 1000),
                allow_auto_create_topics=False,  # the relay creates them, partitioned
                **_security(security),
            )
        self._pending: list[Any] = []
        self._partitions: dict[tuple[str, bytes], int] = {}
        self._partition_lists: dict[str, list[int]] = {}
        self.delivery_timeout = delivery_timeout

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Queue one record; ``wait_all`` tells whether it was acknowledged."""
        try:  # not _broker_errors: this runs tens of thousands of times a second
            self._pending.append(
                self._producer.send(
                    topic, key=key, value=value, partition=self._partition(topic, key)
                )
            )
        except (KafkaError, OSError) as exc:
            raise BrokerError(f"sending to {topic}: {type(exc).__name__}: {exc}") from exc

    def _partition(self, topic: str, key: bytes) -> int:
        """The partition Kafka's default partitioner picks for a key (murmur2, as the Java
        client does), remembered per key: kafka-python works it out again on every send,
        which costs more than the rest of a send together."""
        cached = self._partitions.get((topic, key))
        if cached is None:
            if len(self._partitions) >= PARTITION_CACHE:
                self._partitions.clear()
            partitions = self._partition_lists.get(topic)
            if partitions is None:
                partitions = sorted(self._producer.partitions_for(topic) or ())
                if not partitions:
                    raise BrokerError(f"the broker knows no partitions of {topic}")
                self._partition_lists[topic] = partitions
            cached = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            self._partitions[(topic, key)] = cached
        return cached

    def wait_all(self, timeout: float | None = None) -> int:
        """Block until every record sent since the last call is acknowledged by all
        in-sync replicas; returns how many. Raises ``BrokerError`` if any was not."""
        pending, self._pending = self._pending, []
        deadline = time.monotonic() + (
            timeout if timeout is not None else self.delivery_timeout + 5
        )
        with _broker_errors("waiting for acknowledgements"):
            self._producer.flush(timeout=max(0.0, deadline - time.monotonic()))
            for future in pending:
                future.get(timeout=max(0.0, deadline - time.monotonic()))
        return len(pending)

    def close(self, timeout: float = 5.0) -> None:
        self._pending = []
        try:
            self._producer.close(timeout=timeout, null_logger=True)
        except (KafkaError, OSError):
            # The broker did not take what was pending in time. Give those records up (the
            # relay sends again from its committed position) and close at once: a producer
            # left half-closed is closed again by the library's finaliser, whose error then
            # surfaces in whatever code the garbage collector interrupts.
            with suppress(KafkaError, OSError, AttributeError):
                self._producer._accumulator.abort_incomplete_batches()
                self._producer.close(timeout=0, null_logger=True)


@dataclass(frozen=True)
class Record:
    """One consumed record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


class Consumer:
    """A consumer-group member that reads only committed records and commits by hand,
    after the records are processed; ``fetch_max_wait`` bounds how long a new record may
    sit on the broker before a fetch returns it."""

    def __init__(
        self,
        bootstrap: str,
        topics: Iterable[str],
        *,
        group_id: str,
        client_id: str = "carelog",
        from_beginning: bool = False,
        session_timeout: float = 10.0,
        fetch_max_wait: float = 0.1,
        security: KafkaSecurity | None = None,
    ) -> None:
        session_ms = int(session_timeout * 1000)
        with _broker_errors("connecting the consumer"):
            self._consumer = KafkaConsumer(
                *topics,
                bootstrap_servers=bootstrap,
                client_id=client_id,
                group_id=group_id,
                enable_auto_commit=False,
                isolation_level="read_committed",
                auto_offset_reset="earliest" if from_beginning else "latest",
                session_timeout_ms=session_ms,
                heartbeat_interval_ms=max(500, session_ms // 4),
                # A fetch waits at most this long for new records: a bound on delivery
                # latency even from a broker that does not answer a long poll early.
                fetch_max_wait_ms=int(fetch_max_wait * 1000),
                **_security(security),
            )

    def poll(self, timeout: float = 1.0, max_records: int = 500) -> list[Record]:
        with _broker_errors("polling"):
            batches = self._consumer.poll(timeout_ms=int(timeout * 1000), max_records=max_records)
        return [
            Record(r.topic, r.partition, r.offset, r.key, r.value)
            for records in batches.values()
            for r in records
        ]

    def commit(self) -> None:
        """Commit the positions of everything polled so far."""
        with _broker_errors("committing offsets"):
            self._consumer.commit()

    @property
    def assigned(self) -> bool:
        """True once the group gave this member its partitions."""
        return bool(self._consumer.assignment())

    def close(self) -> None:
        with suppress(KafkaError, OSError):
            self._consumer.close(autocommit=False)
