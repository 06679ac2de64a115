"""The relay and the subscribers against a real Kafka-protocol broker (tansu): every role's
consumer group gets exactly its messages in per-patient order, a killed relay loses nothing
and re-sends at most one batch, and a broker restart loses nothing the relay had not
published."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import CareLog
from services.config import Config
from services.feeds.feed_contract import FEED_ROLES, TOPICS
from services.feeds.feed_message import redact_for_role
from services.feeds.relay import Relay
from services.feeds.subscriber import FeedSubscriber
from tests.cli_process import CLI, carelog_process
from tests.conftest import Team
from tests.kafka_broker import (
    GROUP_SESSION,
    SECRET,
    Broker,
    Traffic,
    expected_messages,
    in_patient_order,
    read_topics,
    read_with_confluent,
    write_traffic,
)

pytestmark = pytest.mark.kafka
REPO = Path(__file__).parents[2]
DEADLINE = 120.0


@pytest.fixture
def kafka_config(config: Config, kafka_broker: Broker) -> Config:
    return config.with_(kafka_bootstrap=kafka_broker.bootstrap, kafka_partitions=6)


@pytest.fixture
def kcarelog(kafka_config: Config) -> Iterator[CareLog]:
    instance = CareLog(kafka_config)
    yield instance
    instance.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Running:
    """A relay on a thread of this process, stopped (and joined) on exit."""

    def __init__(self, relay: Relay) -> None:
        self.relay, self.stop = relay, threading.Event()
        self.thread = threading.Thread(target=relay.run_forever, args=(self.stop,), daemon=True)

    def __enter__(self) -> Relay:
        self.thread.start()
        return self.relay

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the relay did not stop"


def caught_up(carelog: CareLog, relay: Relay) -> Callable[[], bool]:
    return lambda: relay.position >= int(carelog.app.recorder.max_notification_id() or 0)


def consume(
    bootstrap: str,
    role: str,
    count: int,
    into: list[dict[str, Any]],
    subscriber_stats: dict[str, Any],
) -> threading.Thread:
    """A role's subscriber (its own consumer group) collecting ``count`` messages."""

    def run() -> None:
        with FeedSubscriber(
            bootstrap,
            role,
            group_id=f"test-{role}",
            from_beginning=True,
            session_timeout=GROUP_SESSION,
        ) as subscriber:
            deadline = time.monotonic() + DEADLINE
            while len(into) < count and time.monotonic() < deadline:
                into.extend(subscriber.poll(0.5))
                subscriber.commit()
            subscriber_stats[role] = subscriber.stats

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class TestEndToEnd:
    def test_each_roles_group_receives_exactly_its_messages_in_patient_order(
        self, kcarelog: CareLog, team: Team, kafka_broker: Broker
    ) -> None:
        with Running(Relay(kcarelog, batch_size=250)) as relay:
            write_traffic(kcarelog, team, patients=50, events=2000)
            expected = expected_messages(kcarelog)
            per_role = {
                role: [m for m in expected if redact_for_role(m, role)] for role in FEED_ROLES
            }
            received: dict[str, list[dict[str, Any]]] = {role: [] for role in FEED_ROLES}
            stats: dict[str, Any] = {}
            consumers = [
                consume(kafka_broker.bootstrap, role, len(per_role[role]), received[role], stats)
                for role in FEED_ROLES
            ]
            for consumer in consumers:
                consumer.join(timeout=DEADLINE + 10)
            wait_for(caught_up(kcarelog, relay), "the relay")

        assert int(kcarelog.app.recorder.max_notification_id() or 0) >= 2000
        for role in FEED_ROLES:
            got = received[role]
            assert sorted(m["id"] for m in got) == sorted(m["id"] for m in per_role[role]), role
            assert in_patient_order(got), role
            assert stats[role].duplicates == 0
        assert not any(m["type"] == "carelog.note.added.v1" for m in received["pharmacist"])
        assert not any(m["type"] == "carelog.lab-result.recorded.v1" for m in received["therapist"])
        assert all(
            "reason" not in m["data"]
            for m in received["therapist"]
            if m["type"] == "carelog.medication.dose-changed.v1"
        )

    def test_an_independent_client_finds_no_note_text_and_keys_by_patient(
        self, kcarelog: CareLog, team: Team, kafka_broker: Broker
    ) -> None:
        write_traffic(kcarelog, team, patients=10, events=300)
        expected = {m["id"] for m in expected_messages(kcarelog)}
        with Running(Relay(kcarelog)) as relay:
            wait_for(caught_up(kcarelog, relay), "the relay")

        records = read_with_confluent(
            kafka_broker.bootstrap, TOPICS, until=lambda rs: len(rs) >= len(expected)
        )

        assert {r.message["id"] for r in records} == expected
        assert all(SECRET not in str(r.message) for r in records)
        assert all(r.key == r.message["subject"] for r in records)
        notes = [r.message for r in records if r.topic == "carelog.notes"]
        assert notes
        assert {n["data"]["kind"] for n in notes} == {"progress"}
        partitions = {(r.topic, r.key): set() for r in records}
        for r in records:
            partitions[(r.topic, r.key)].add(r.partition)
        assert all(len(p) == 1 for p in partitions.values())


CRASH_SCRIPT = """
import os, signal, sys, threading
from services.bootstrap import CareLog
from services.feeds.kafka_client import Producer
from services.feeds.relay import Relay

point, crash_batch, half = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
state = {"tracked": 0, "sends": 0}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

send = Producer.send
def crashing_send(self, topic, key, value):
    if state["tracked"] == crash_batch - 1:
        if point == "before-send" and state["sends"] == 0:
            die()
        if point == "mid-batch" and state["sends"] == half:
            self.wait_all()  # half the batch is acknowledged, none of it tracked
            die()
    state["sends"] += 1
    send(self, topic, key, value)
Producer.send = crashing_send

save = Relay._save_position
def crashing_save(self, position):
    if point == "after-send" and state["tracked"] == crash_batch - 1:
        die()  # every message acknowledged, the tracking not committed
    save(self, position)
    state["tracked"] += 1
    state["sends"] = 0
Relay._save_position = crashing_save

Relay(CareLog()).run_forever(threading.Event())
"""

BATCH = 60
HALF = 20


def relay_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=config.database_url,
        CARELOG_KAFKA_BOOTSTRAP=str(config.kafka_bootstrap),
        CARELOG_RELAY_BATCH_SIZE=str(BATCH),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    )
    if config.cipher_key:
        env["CARELOG_CIPHER_KEY"] = config.cipher_key
    return env


class TestRelayCrashes:
    @pytest.mark.parametrize("point", ["before-send", "mid-batch", "after-send"])
    def test_a_killed_relay_loses_nothing_and_resends_at_most_one_batch(
        self, kcarelog: CareLog, team: Team, kafka_broker: Broker, kafka_config: Config, point: str
    ) -> None:
        write_traffic(kcarelog, team, patients=10, events=400)
        expected = expected_messages(kcarelog)

        crashed = subprocess.run(
            [sys.executable, "-c", CRASH_SCRIPT, point, "3", str(HALF)],
            cwd=REPO,
            env=relay_env(kafka_config),
            capture_output=True,
            timeout=DEADLINE,
        )
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
        relay = Relay(kcarelog, batch_size=BATCH)
        tracked_at_crash = relay.position
        assert tracked_at_crash > 0
        with Running(relay):  # the restart
            wait_for(caught_up(kcarelog, relay), "the restarted relay")

        raw = read_topics(
            kafka_broker.bootstrap,
            TOPICS,
            until=lambda rs: len({r.message["id"] for r in rs}) >= len(expected),
        )
        counts = Counter(r.message["id"] for r in raw)
        assert set(counts) == {m["id"] for m in expected}
        resent = [m for m in expected if counts[m["id"]] > 1]
        assert all(counts[m["id"]] == 2 for m in resent)
        after_crash = [m for m in expected if m["data"]["position"] > tracked_at_crash]
        assert resent == after_crash[: len(resent)], "only the batch in flight is re-sent"
        assert len(resent) <= BATCH
        if point == "before-send":
            assert resent == []
        elif point == "mid-batch":
            assert len(resent) == HALF
        else:  # the whole batch was acknowledged, then re-sent
            assert len(resent) > HALF

        received: list[dict[str, Any]] = []
        stats: dict[str, Any] = {}
        consume(kafka_broker.bootstrap, "psychiatrist", len(expected), received, stats).join(
            timeout=DEADLINE + 10
        )
        assert sorted(m["id"] for m in received) == sorted(m["id"] for m in expected)
        assert stats["psychiatrist"].duplicates == len(resent)
        assert in_patient_order(received)


class TestBrokerOutage:
    def test_after_a_broker_restart_the_relay_resumes_from_its_tracked_position(
        self, kcarelog: CareLog, team: Team, kafka_broker: Broker
    ) -> None:
        traffic = Traffic(kcarelog, team, patients=10)
        writing = threading.Event()
        writing.set()

        def write() -> None:
            while writing.is_set():
                traffic.step()

        writer = threading.Thread(target=write, daemon=True)
        relay = Relay(
            kcarelog, batch_size=20, request_timeout=1.0, delivery_timeout=2.0, backoff=(0.05, 0.5)
        )
        with Running(relay):
            writer.start()
            wait_for(lambda: relay.stats.published >= 100, "publishing to start")
            kafka_broker.kill()  # while publishing
            wait_for(lambda: relay.stats.failures >= 1, "the relay to notice")
            tracked_when_down = relay.position
            kafka_broker.start()  # the same address; tansu's memory storage starts empty
            published = relay.stats.published
            wait_for(lambda: relay.stats.published > published + 100, "publishing to resume")
            writing.clear()
            writer.join(timeout=30)
            wait_for(caught_up(kcarelog, relay), "the relay to catch up")

        unpublished = [
            m for m in expected_messages(kcarelog) if m["data"]["position"] > tracked_when_down
        ]
        raw = read_topics(
            kafka_broker.bootstrap, TOPICS, until=lambda rs: len(rs) >= len(unpublished)
        )
        counts = Counter(r.message["id"] for r in raw)
        assert set(counts) == {m["id"] for m in unpublished}
        assert sum(counts.values()) - len(counts) <= 20  # a re-sent batch at most
        by_partition: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for r in sorted(raw, key=lambda r: r.offset):
            by_partition.setdefault((r.topic, r.partition), []).append(r.message)
        assert all(in_patient_order(ms) for ms in by_partition.values())


@contextmanager
def relay_and_follower(
    env: dict[str, str], log: Path, *follow_args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``carelog relay`` (what it logs in ``log``) and ``carelog feed follow ARGS`` (what
    it prints piped), each stopped with SIGTERM at the end and expected to exit 0."""
    with open(log, "wb") as out:
        relay = subprocess.Popen([*CLI, "relay"], cwd=REPO, env=env, stderr=out)
    follow = subprocess.Popen(
        [*CLI, "feed", "follow", *follow_args], cwd=REPO, env=env, stdout=subprocess.PIPE
    )
    try:
        yield follow
    finally:
        for process in (follow, relay):
            process.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=30) == 0, log.read_text()[-3000:]
        assert follow.wait(timeout=30) == 0


def read_lines(follow: subprocess.Popen[bytes], count: int) -> list[str]:
    """The first ``count`` lines ``feed follow`` prints (fewer if it has not printed them
    within the deadline, or ended)."""
    lines: list[str] = []

    def read() -> None:
        assert follow.stdout is not None
        while len(lines) < count:
            line = follow.stdout.readline()
            if not line:
                return
            lines.append(line.decode())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=DEADLINE)
    return lines


class TestCommands:
    def test_carelog_relay_and_feed_follow_carry_the_pharmacists_feed(
        self,
        kcarelog: CareLog,
        team: Team,
        kafka_broker: Broker,
        kafka_config: Config,
        tmp_path: Path,
    ) -> None:
        write_traffic(kcarelog, team, patients=3, events=60)
        expected = [m for m in expected_messages(kcarelog) if redact_for_role(m, "pharmacist")]
        env = relay_env(kafka_config)

        def status() -> dict[str, int]:
            done = carelog_process(
                "relay", "--status", env=env, cwd=REPO, timeout=DEADLINE, check=True
            )
            return dict(json.loads(done.stdout))

        follow_args = ("--role", "pharmacist", "--json", "--from-beginning", "--group", "cli-test")
        with relay_and_follower(env, tmp_path / "relay.log", *follow_args) as follow:
            wait_for(lambda: status()["lag"] == 0, "`carelog relay` to publish everything")
            second = carelog_process("relay", env=env, cwd=REPO, timeout=DEADLINE)
            assert second.returncode == 1
            assert "one relay per store" in second.stderr
            lines = read_lines(follow, len(expected))
        assert sorted(json.loads(line)["id"] for line in lines) == sorted(m["id"] for m in expected)


class TestSubscriber:
    def test_duplicates_are_dropped_and_a_stray_record_does_not_stop_the_feed(
        self, kafka_broker: Broker
    ) -> None:
        from kafka import KafkaProducer

        from services.feeds.kafka_client import ensure_topics

        ensure_topics(kafka_broker.bootstrap, TOPICS, partitions=2, replication_factor=1)
        message = {
            "specversion": "1.0",
            "id": "e-1",
            "source": "urn:test",
            "subject": "p-1",
            "type": "carelog.medication.dose-changed.v1",
            "time": "2026-03-01T09:30:00Z",
            "data": {
                "order_id": "o-1",
                "dose": {"amount": 100, "unit": "mg"},
                "reason": "titration",
                "position": 7,
            },
        }
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
        for value in (
            b"not a cloudevent",
            json.dumps(message).encode(),
            json.dumps(message).encode(),
        ):
            producer.send("carelog.plan-changes", key=b"p-1", value=value)
        producer.flush()
        producer.close()

        received: list[dict[str, Any]] = []
        with FeedSubscriber(
            kafka_broker.bootstrap,
            "therapist",
            group_id="stray",
            from_beginning=True,
            session_timeout=GROUP_SESSION,
        ) as subscriber:
            deadline = time.monotonic() + DEADLINE
            while subscriber.stats.records < 3:
                assert time.monotonic() < deadline, "timed out waiting for the three records"
                received += subscriber.poll(0.5)
            stats = subscriber.stats

        assert [m["id"] for m in received] == ["e-1"]
        assert received[0]["data"] == {
            "order_id": "o-1",
            "dose": {"amount": 100, "unit": "mg"},
            "position": 7,
        }  # a therapist's view: no reason
        assert (stats.duplicates, stats.skipped) == (1, 1)
