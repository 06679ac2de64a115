"""The feeds benchmark's latencies (``bench/feeds.py``): write -> Kafka subscriber through
``carelog relay`` and write -> SSE client through ``carelog serve``, each in its own process.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from bench._support import sized
from bench.feeds_relay import Patients
from services.bootstrap import CareLog
from services.config import Config
from services.feeds.relay import Relay
from services.feeds.subscriber import FeedSubscriber
from tests.kafka_broker import GROUP_SESSION, Broker, free_port

SAMPLES = sized("CARELOG_BENCH_FEED_SAMPLES", 10, 300)
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
