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

import os
import statistics
from typing import Any

from bench.__main__ import smoke
from bench._support import sized, store
from bench.api_load import Run, load, requests_for, seed
from bench.api_server import server

SMOKE = smoke()
WORKERS = int(os.environ.get("CARELOG_BENCH_API_WORKERS", "2"))
STORE = os.environ.get("CARELOG_BENCH_API_STORE", "sqlite")
PATIENTS = sized("CARELOG_BENCH_API_PATIENTS", 4, 50)
THREADS = sized("CARELOG_BENCH_API_THREADS", 2, 8)
RATE = float(os.environ.get("CARELOG_BENCH_API_RATE", "300"))
WRITE_RATE = float(os.environ.get("CARELOG_BENCH_API_WRITE_RATE", "0"))
REQUESTS = sized("CARELOG_BENCH_API_REQUESTS", 40, 3000)
REPEAT = sized("CARELOG_BENCH_API_REPEAT", 1, 3)
TARGETS = {"GET plan": 20.0, "POST dose change": 30.0}  # p99, ms


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
