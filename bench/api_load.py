"""The API benchmark's chart and load generator (``bench/api.py``): patients with an order,
keep-alive clients paced on an open-loop schedule, and the requests each endpoint gets.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.patient_writes import prescribe, register


@dataclass
class Chart:
    """What the load generator needs: a token and each patient's order."""

    token: str
    orders: dict[str, str] = field(default_factory=dict)
    doses: dict[str, float] = field(default_factory=dict)  # each order's dose now (mg)


def seed(url: str, patients: int) -> Chart:
    carelog = CareLog(Config(database_url=url, run_projections=False))
    try:
        member, token = carelog.staff.add("Bench psychiatrist", "psychiatrist")
        chart = Chart(token)
        for n in range(patients):
            ctx = CommandContext(member.actor)
            pid = register(carelog, ctx, f"BENCH-API-{n}", f"Synthetic {n}")
            chart.orders[pid] = prescribe(carelog, ctx, pid)
        return chart
    finally:
        carelog.close()


Request = Callable[[int], tuple[str, str, bytes | None]]  # n -> method, path, body


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, body: bytes | None) -> int:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=self.headers)
                response = self.conn.getresponse()
                response.read()
                return response.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


@dataclass
class Run:
    p50_ms: float
    p99_ms: float
    rate: float
    errors: dict[int, int]


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def load(port: int, token: str, requests: list[Request], count: int, rate: float) -> Run:
    """``count`` requests from ``len(requests)`` threads (thread t sends ``requests[t]``),
    paced at ``rate`` a second overall (0: unpaced); latency from each request's due time."""
    threads = len(requests)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: dict[int, int] = {}
    start = time.perf_counter() + 0.05
    # Request n is due at start + n / rate: arrivals spread evenly over time (an open-loop
    # constant-rate schedule, as wrk2 keeps), not all threads firing together each round.
    interval = 1.0 / rate if rate > 0 else 0.0

    def work(t: int) -> None:
        client = Client(port, token)
        try:
            for n in range(t, count, threads):
                due = start + n * interval if interval else time.perf_counter()
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                method, path, body = requests[t](n)
                status = client.send(method, path, body)
                latencies[t].append(time.perf_counter() - due)
                if status >= 300:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            client.close()

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    every = sorted(x for per in latencies for x in per)
    return Run(
        percentile(every, 0.50) * 1000,
        percentile(every, 0.99) * 1000,
        len(every) / elapsed,
        errors,
    )


def requests_for(kind: str, chart: Chart, threads: int) -> list[Request]:
    pids = list(chart.orders)
    if kind == "GET healthz":
        return [lambda n: ("GET", "/healthz", None)] * threads
    if kind == "GET plan":
        return [lambda n: ("GET", f"/api/v1/patients/{pids[n % len(pids)]}/plan", None)] * threads
    mine = [pids[t::threads] or pids for t in range(threads)]  # no two threads share a record
    amounts = chart.doses  # kept across runs: a change to the dose already given is refused

    def change(t: int) -> Request:
        def request(n: int) -> tuple[str, str, bytes | None]:
            own = mine[t]
            pid = own[(n // threads) % len(own)]
            amount = 50.0 if amounts.get(pid, 50.0) == 100.0 else 100.0
            amounts[pid] = amount
            body = {"dose": {"amount": amount, "unit": "mg"}, "reason": "benchmark titration"}
            path = f"/api/v1/patients/{pid}/medications/{chart.orders[pid]}/dose-changes"
            return "POST", path, json.dumps(body).encode()

        return request

    return [change(t) for t in range(threads)]
