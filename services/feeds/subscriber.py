"""Following a role's feed on Kafka, for programs that embed CareLog's feeds.

A consumer-group member (one group per subscribing program: its members share the
partitions, and each patient's messages arrive in order because they share a partition).
It reads committed records only, applies the role's redaction, drops duplicates by
CloudEvents id (the relay delivers at least once), hands each message over, and commits
the offsets only after the handler returned: a crash re-delivers, never skips.

Duplicates are remembered in memory (the last ``dedupe_window`` ids): enough for the
relay's re-sent batch; a program that must never see a duplicate across its own restarts
keeps the ids it processed with its results.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.feeds.feed_contract import role_topics
from services.feeds.feed_message import redact_for_role
from services.feeds.kafka_client import BrokerError, Consumer, Record
from services.feeds.kafka_security import KafkaSecurity

log = logging.getLogger(__name__)

Message = dict[str, Any]

BROKER_RETRY = 1.0
"""Seconds between attempts while the broker is unavailable."""


@dataclass
class SubscriberStats:
    """What the subscriber has seen: raw records, messages handed over, duplicates dropped,
    and records skipped (not this role's, or not a CloudEvent)."""

    records: int = 0
    delivered: int = 0
    duplicates: int = 0
    skipped: int = 0


class FeedSubscriber:
    """A role's feed from Kafka, redacted and without duplicates."""

    def __init__(
        self,
        bootstrap: str,
        role: str,
        *,
        group_id: str | None = None,
        client_id: str = "carelog",
        from_beginning: bool = False,
        session_timeout: float = 10.0,
        dedupe_window: int = 200_000,
        security: KafkaSecurity | None = None,
    ) -> None:
        self.role = str(role)
        self.topics = role_topics(self.role)
        if not self.topics:
            raise ValueError(
                f'The {self.role} role has no feed (minimum necessary: see the README, "Feeds").'
            )
        self.group_id = group_id or f"carelog-feed-{self.role}"
        self.stats = SubscriberStats()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._window = dedupe_window
        self._consumer = Consumer(
            bootstrap,
            self.topics,
            group_id=self.group_id,
            client_id=client_id,
            from_beginning=from_beginning,
            session_timeout=session_timeout,
            security=security,
        )

    @property
    def assigned(self) -> bool:
        """True once the group gave this member its partitions."""
        return self._consumer.assigned

    def poll(self, timeout: float = 1.0) -> list[Message]:
        """New messages for this role (not yet committed: call ``commit`` once handled)."""
        out: list[Message] = []
        for record in self._consumer.poll(timeout):
            message = self._accept(record)
            if message is not None:
                out.append(message)
        return out

    def commit(self) -> None:
        self._consumer.commit()

    def run(
        self, handle: Callable[[Message], None], stop: threading.Event, poll_timeout: float = 0.5
    ) -> None:
        """Hand every message to ``handle`` until ``stop`` is set, committing after each
        polled batch is handled. A broker outage is waited out: what was handled but not
        committed comes again after it, and is dropped as a duplicate."""
        while not stop.is_set():
            try:
                messages = self.poll(poll_timeout)
                for message in messages:
                    handle(message)
                self.commit()
            except BrokerError as exc:
                log.warning("the broker is unavailable (%s); retrying in %.0f s", exc, BROKER_RETRY)
                stop.wait(BROKER_RETRY)

    def close(self) -> None:
        self._consumer.close()

    def __enter__(self) -> FeedSubscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one record --------------------------------------------------------------------------
    def _accept(self, record: Record) -> Message | None:
        self.stats.records += 1
        try:
            message = json.loads(record.value)
            event_id = str(message["id"])
        except (ValueError, TypeError, KeyError):
            log.warning(
                "skipping a record that is not a CloudEvent: %s[%d]@%d",
                record.topic,
                record.partition,
                record.offset,
            )
            self.stats.skipped += 1
            return None
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            self.stats.duplicates += 1
            return None
        self._seen[event_id] = None
        if len(self._seen) > self._window:
            self._seen.popitem(last=False)
        redacted = redact_for_role(message, self.role)
        if redacted is None:
            self.stats.skipped += 1
            return None
        self.stats.delivered += 1
        return redacted
