"""HTTP API: GET plan and POST dose change through a real server, beside a trivial endpoint.

The server runs as deployed, in its own process: ``carelog serve --workers N`` (gunicorn,
gthread, 8 threads a worker; ``CARELOG_BENCH_API_WORKERS``, default 2; 0 = the embedded
Werkzeug server, which keeps the views itself), with ``carelog projections run`` beside it
keeping the views as docker-compose runs them, over a fresh store
(``CARELOG_BENCH_API_STORE``: ``sqlite``, the default, or ``postgres`` at
``CARELOG_BENCH_PG``). ``CARELOG_BENCH_API_PATIENTS``
patients (default 50) each get a sertraline order first, through the commands.

The load generator is this process: ``CARELOG_BENCH_API_THREADS`` threads (default 8), each
with one keep-alive ``http.client`` connection, paced at ``CARELOG_BENCH_API_RATE``
requests/s overall (default 300, the issue's target rate; 0 = as fast as they go), request
n due at n / rate: arrivals evenly spread, as wrk2's constant-rate mode sends them.
Latency is timed from when a request was due, not when it was sent, so a server that
falls behind shows it (no coordinated omission). Each run sends
``CARELOG_BENCH_API_REQUESTS`` requests (default 3,000) to one endpoint:

- ``GET /healthz``: the framework ceiling (routing, the JSON access log, metrics; no store);
- ``GET /api/v1/patients/{pid}/plan``: authentication, care-team check, the record loaded
  from the store, the plan document, one access-log row;
- ``POST .../medications/{oid}/dose-changes``: a write through the safety rules, each
  thread on its own patients (so no two writes race for one record), alternating 50 and
  100 mg; paced at ``CARELOG_BENCH_API_WRITE_RATE`` (default 0: unpaced, each thread
  sends its next write when the last one is answered; the issue sets no write rate).

Every run is repeated ``CARELOG_BENCH_API_REPEAT`` times (default 3): p50, p99 and the
requests/s achieved are min / median / max over the runs. Targets (issue 4): GET plan p99
<= 20 ms at 300 req/s; POST dose change p99 <= 30 ms.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.__main__ import smoke
from bench._support import sized, store
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.patient_writes import prescribe, register

SMOKE = smoke()
WORKERS = int(os.environ.get("CARELOG_BENCH_API_WORKERS", "2"))
STORE = os.environ.get("CARELOG_BENCH_API_STORE", "sqlite")
PATIENTS = sized("CARELOG_BENCH_API_PATIENTS", 4, 50)
THREADS = sized("CARELOG_BENCH_API_THREADS", 2, 8)
RATE = float(os.environ.get("CARELOG_BENCH_API_RATE", "300"))
WRITE_RATE = float(os.environ.get("CARELOG_BENCH_API_WRITE_RATE", "0"))
REQUESTS = sized("CARELOG_BENCH_API_REQUESTS", 40, 3000)
REPEAT = sized("CARELOG_BENCH_API_REPEAT", 1, 3)
REPO = Path(__file__).resolve().parents[1]
TARGETS = {"GET plan": 20.0, "POST dose change": 30.0}  # p99, ms


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[int]:
    """``carelog serve`` on a free port in its own process group, until it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=url,
        CARELOG_SECRET_KEY="bench",
        # As docker-compose deploys it: under gunicorn the views are kept by their own
        # worker process (one runner, not one per API worker); embedded, by the server.
        CARELOG_RUN_PROJECTIONS="0" if workers else "1",
        PYTHONPATH=str(REPO),
    )
    command = [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    processes = [_start(command, env)]
    if workers:
        processes.append(
            _start([sys.executable, "-m", "services.cli.main", "projections", "run"], env)
        )
    try:
        _wait_up(port, processes[0])
        yield port
    finally:
        for process in processes:
            _stop(process)


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the JSON access log: one line a request
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the master and its workers
        process.wait(timeout=30)


def _wait_up(port: int, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the API did not come up")


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


KINDS = ("GET healthz", "GET plan", "POST dose change")


def run(report: Any) -> None:
    if THREADS > 1 and PATIENTS < THREADS:
        raise SystemExit("CARELOG_BENCH_API_PATIENTS must be at least CARELOG_BENCH_API_THREADS")
    mode = f"gunicorn, {WORKERS} worker(s) x 8 threads" if WORKERS else "embedded Werkzeug"
    pace = f"reads paced at {RATE:g} req/s" if RATE > 0 else "reads unpaced"
    pace += f", writes at {WRITE_RATE:g} req/s" if WRITE_RATE > 0 else ", writes unpaced"
    report.text(
        f"`carelog serve` ({mode}) on {STORE}, {PATIENTS} patients; load from this process: "
        f"{THREADS} threads, keep-alive `http.client`, {pace}, {REQUESTS} requests a run, "
        f"{REPEAT} run(s) an endpoint. Latency is from each request's due time. "
        "Targets: GET plan p99 <= 20 ms at 300 req/s; POST dose change p99 <= 30 ms."
    )
    results: dict[str, list[Run]] = {kind: [] for kind in KINDS}
    with store(STORE) as url:
        chart = seed(url, PATIENTS)
        with server(url, WORKERS) as port:
            warm = requests_for("GET plan", chart, THREADS)
            load(port, chart.token, warm, min(REQUESTS, 200), 0)  # caches, connections
            for _ in range(REPEAT):
                for kind in KINDS:
                    requests = requests_for(kind, chart, THREADS)
                    rate = WRITE_RATE if kind.startswith("POST") else RATE
                    results[kind].append(load(port, chart.token, requests, REQUESTS, rate))
    for kind, runs in results.items():
        report.samples(f"{kind}: p50", [r.p50_ms for r in runs], "ms")
        report.samples(f"{kind}: p99", [r.p99_ms for r in runs], "ms")
        report.samples(f"{kind}: achieved", [r.rate for r in runs], "req/s")
        report(f"{kind}: non-2xx answers", sum(sum(r.errors.values()) for r in runs))
        statuses: dict[int, int] = {}
        for r in runs:
            for status, count in r.errors.items():
                statuses[status] = statuses.get(status, 0) + count
        if statuses:
            shown = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
            report.text(f"{kind}: non-2xx statuses: {shown}.")
    verdicts = []
    for kind, target in TARGETS.items():
        worst = statistics.median(r.p99_ms for r in results[kind])
        verdicts.append(
            f"{kind}: median p99 {worst:.1f} ms against {target:g} ms: "
            + ("met" if worst <= target else "**not met**")
        )
    report.text("; ".join(verdicts) + ("." if not SMOKE else " (smoke run: meaningless)."))
