"""The relay's bookkeeping on both stores, with a fake broker: it tracks a batch only once
every message of it is acknowledged, resumes after its tracked position, and runs alone."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from services.feeds.kafka_client import BrokerError, Producer
from services.feeds.relay import Relay, RelayLockedError
from tests.conftest import Team
from tests.patient_writes import dose_change, prescription, register


class FakeProducer(Producer):
    """Records what was sent; acknowledges or fails the batch on demand."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.pending: list[tuple[str, bytes, bytes]] = []
        self.fail = fail
        self.delivery_timeout = 1.0

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.pending.append((topic, key, value))

    def wait_all(self, timeout: float | None = None) -> int:
        pending, self.pending = self.pending, []
        if self.fail:
            raise BrokerError("broker unavailable (fake)")
        self.sent += pending
        return len(pending)

    def close(self, timeout: float = 5.0) -> None:
        pass


@pytest.fixture
def kafka_config(config: Config) -> Config:
    return config.with_(kafka_bootstrap="127.0.0.1:9", relay_batch_size=4)


@pytest.fixture
def relay_carelog(kafka_config: Config) -> Iterator[CareLog]:
    instance = CareLog(kafka_config)
    yield instance
    instance.close()


def relay_with(carelog: CareLog, producer: FakeProducer) -> Relay:
    relay = Relay(carelog, producer_factory=lambda: producer)
    relay.ensure_table()
    return relay


def write_patient(carelog: CareLog, team: Team, mrn: str = "MRN-R") -> str:
    ctx = CommandContext(team.psychiatrist)
    pid = register(carelog, ctx, mrn, "Relay Patient", "1970-01-01")
    order = carelog.commands.execute(ctx, pid, prescription()).ids["order_id"]
    carelog.commands.execute(ctx, pid, dose_change(order, 100))
    carelog.commands.execute(
        ctx, pid, c.AssignCareTeamMember(clinician_id=team.therapist.id, role="therapist")
    )
    return pid


def drain(relay: Relay) -> None:
    while relay.publish_next_batch():
        pass


class TestTracking:
    def test_a_batch_is_tracked_only_once_every_message_is_acknowledged(
        self, relay_carelog: CareLog, team: Team
    ) -> None:
        write_patient(relay_carelog, team)
        producer = FakeProducer(fail=True)
        relay = relay_with(relay_carelog, producer)

        with pytest.raises(BrokerError):
            relay.publish_next_batch()
        assert relay.position == 0

        producer.fail = False
        drain(relay)
        assert relay.position == relay_carelog.app.recorder.max_notification_id()
        assert producer.sent

    @pytest.mark.cipher
    def test_messages_go_to_their_topic_keyed_by_patient(
        self, relay_carelog: CareLog, team: Team
    ) -> None:
        pid = write_patient(relay_carelog, team)
        producer = FakeProducer()
        drain(relay_with(relay_carelog, producer))

        by_type = {json.loads(v)["type"]: (t, k) for t, k, v in producer.sent}
        assert by_type["carelog.medication.dose-changed.v1"] == (
            "carelog.plan-changes",
            pid.encode(),
        )
        assert by_type["carelog.follow-up.scheduled.v1"][0] == "carelog.clinical"
        positions = [json.loads(v)["data"]["position"] for _, _, v in producer.sent]
        assert positions == sorted(positions)

    def test_a_restarted_relay_publishes_only_what_follows_its_tracked_position(
        self, relay_carelog: CareLog, team: Team
    ) -> None:
        write_patient(relay_carelog, team, "MRN-1")
        first = FakeProducer()
        drain(relay_with(relay_carelog, first))
        write_patient(relay_carelog, team, "MRN-2")

        second = FakeProducer()  # a new relay: it starts from the tracking row
        drain(relay_with(relay_carelog, second))

        first_ids = {json.loads(v)["id"] for _, _, v in first.sent}
        second_ids = {json.loads(v)["id"] for _, _, v in second.sent}
        assert second_ids
        assert not first_ids & second_ids

    def test_events_that_never_leave_still_move_the_tracked_position(
        self, relay_carelog: CareLog, team: Team
    ) -> None:
        pid = write_patient(relay_carelog, team)
        producer = FakeProducer()
        relay = relay_with(relay_carelog, producer)
        drain(relay)
        sent = len(producer.sent)
        for n in range(10):
            relay_carelog.commands.execute(
                CommandContext(team.therapist),
                pid,
                c.AddNote(kind="psychotherapy", modality="CBT", text=f"session {n}"),
            )

        drain(relay)

        assert len(producer.sent) == sent
        assert relay.position == relay_carelog.app.recorder.max_notification_id()

    def test_run_forever_retries_after_a_failure_and_stops_when_asked(
        self, relay_carelog: CareLog, team: Team
    ) -> None:
        write_patient(relay_carelog, team)
        producer = FakeProducer(fail=True)
        relay = Relay(relay_carelog, producer_factory=lambda: producer, backoff=(0.01, 0.05))
        stop = threading.Event()
        runner = threading.Thread(target=relay.run_forever, args=(stop,))
        runner.start()
        try:
            _wait(lambda: relay.stats.failures >= 3)
            producer.fail = False
            head = relay_carelog.app.recorder.max_notification_id()
            _wait(lambda: relay.position == head)
        finally:
            stop.set()
            runner.join(timeout=10)
        assert not runner.is_alive()
        assert relay.stats.published == len(producer.sent)


class TestOneRelayPerStore:
    def test_a_second_relay_on_the_same_store_is_refused(
        self, relay_carelog: CareLog, kafka_config: Config
    ) -> None:
        other = CareLog(kafka_config)
        try:
            with Relay(relay_carelog).lock(), pytest.raises(RelayLockedError):
                Relay(other).lock().__enter__()
            with Relay(other).lock() as held:  # released: the next one may run
                held.check()
        finally:
            other.close()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
