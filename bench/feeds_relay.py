"""The feeds benchmark's backlog and relay (``bench/feeds.py``): patients with an order, the
feed events the relay publishes, its throughput and the cost of each step of a batch.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import gc
import time

from bench.__main__ import smoke
from bench._support import sized
from domain import commands as c
from domain.actor import Actor
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.feeds.relay import Relay, tune_collector
from tests.patient_writes import prescribe, register

SMOKE = smoke()
RELAY_EVENTS = sized("CARELOG_BENCH_RELAY_EVENTS", 500, 50000)
RELAY_PASSES = 1 if SMOKE else 3


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
