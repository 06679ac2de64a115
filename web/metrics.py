"""``/metrics`` in Prometheus format: request latency, writes and group-commit sizes, view
lag, relay lag and quarantined events.

Counters are kept per app (its own registry, so tests can build many apps); lags are read
when Prometheus scrapes, so they are never stale. The endpoint needs a staff token like
every non-health endpoint (Prometheus sends one with ``authorization: credentials``); it
exposes no patient data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.bootstrap import CareLog

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class StoreCollector(Collector):
    """Scrape-time figures from the store, the views, the relay and group commit."""

    def __init__(self, carelog: CareLog) -> None:
        self.carelog = carelog

    def collect(self) -> Iterator[Any]:
        head = self.carelog.app.recorder.max_notification_id() or 0
        yield GaugeMetricFamily("carelog_log_head_position", "Last position in the log", value=head)
        lag = GaugeMetricFamily(
            "carelog_view_lag_events", "Events a view is behind", labels=["view"]
        )
        stuck = GaugeMetricFamily(
            "carelog_quarantined_events", "Events a view has quarantined", labels=["view"]
        )
        for view in self.carelog.views.status():
            lag.add_metric([view["name"]], view.get("lag_events", 0))
            stuck.add_metric([view["name"]], len(view.get("quarantined") or []))
        yield lag
        yield stuck
        relay = GaugeMetricFamily(
            "carelog_relay_lag_events", "Events not yet acknowledged by Kafka", labels=["relay"]
        )
        if self.carelog.db.table_exists("relay_tracking"):
            for row in self.carelog.db.query("SELECT name, last_position FROM relay_tracking"):
                relay.add_metric([row["name"]], max(head - int(row["last_position"]), 0))
        yield relay
        committer = self.carelog.app.committer
        if committer is not None:
            yield GaugeMetricFamily(
                "carelog_group_commit_batches",
                "Transactions the group committer ran",
                value=committer.batches,
            )
            yield GaugeMetricFamily(
                "carelog_group_commit_commands",
                "Commands saved through group commit",
                value=committer.batched_commands,
            )
            yield GaugeMetricFamily(
                "carelog_group_commit_last_batch_size",
                "Commands in the last shared transaction",
                value=committer.last_batch_size,
            )


def init_app(app: Flask, carelog: CareLog) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "carelog_http_request_seconds",
        "HTTP request latency",
        ["method", "endpoint", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    writes = Histogram(
        "carelog_write_events",
        "Events a successful write recorded",
        buckets=(1, 2, 3, 5, 8, 13),
        registry=registry,
    )
    registry.register(StoreCollector(carelog))

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            latency.labels(request.method, endpoint, str(response.status_code)).observe(
                time.perf_counter() - started
            )
            if request.method == "POST" and response.status_code == 201 and response.is_json:
                body = response.get_json(silent=True) or {}
                if "position" in body and "last_position" in body:
                    writes.observe(body["last_position"] - body["position"] + 1)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        from web.context import actor, policy, request_info

        policy().require_read_kind(actor(), "metrics", request_info())
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    api = app.extensions.get("carelog_api")
    if api is not None:
        document(api.spec, next(app.url_map.iter_rules("metrics")))


def document(spec: Any, rule: Any) -> None:
    """``/metrics`` is a plain Flask route (Prometheus text, not JSON): described here."""
    problem = {"$ref": "#/components/schemas/Problem"}
    spec.path(
        rule=rule,
        operations={
            "get": {
                "tags": ["ops"],
                "summary": "Prometheus metrics (admins and auditors; no patient data).",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    **{
                        str(code): {
                            "description": text,
                            "content": {"application/problem+json": {"schema": problem}},
                        }
                        for code, text in (
                            (400, "A NUL character in a header, the path or the query"),
                            (401, "No or bad bearer token"),
                            (403, "Not an admin or an auditor"),
                            (429, "Too many failed sign-ins (see Retry-After)"),
                        )
                    },
                },
            }
        },
    )
