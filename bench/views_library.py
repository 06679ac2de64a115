"""The reference for ``bench/views.py``: the eventsourcing library's own projection path.

A library ``Projection`` whose view is a library tracking recorder with one counter table:
each event is one transaction (the counter row and the tracking row), as the library's
examples do. On PostgreSQL it runs under the library's ``ProjectionRunner`` (subscription
by LISTEN/NOTIFY); SQLite cannot subscribe, so there a ``select_notifications`` loop feeds
``process_event`` directly (no subscription overhead: the comparison favours the library).
This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from services.bootstrap import CareLog
from services.writing.application import CareLogApplication


class PostgresCounts(PostgresTrackingRecorder):
    """Events counted per type, with the library's tracking, on PostgreSQL."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.bench_counts (kind text PRIMARY KEY, n bigint)"
            ).format(Identifier(self.datastore.schema))
        )
        self.incr_statement = SQL(
            "INSERT INTO {0}.bench_counts VALUES (%s, 1) ON CONFLICT (kind)"
            " DO UPDATE SET n = {0}.bench_counts.n + 1"
        ).format(Identifier(self.datastore.schema))

    def incr(self, kind: str, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.incr_statement, (kind,))
            self._insert_tracking(curs, tracking)


class SQLiteCounts(SQLiteTrackingRecorder):
    """The same on SQLite."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS bench_counts (kind TEXT PRIMARY KEY, n INTEGER)",
        ]

    def incr(self, kind: str, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO bench_counts VALUES (?, 1) ON CONFLICT (kind) DO UPDATE SET n = n + 1",
                (kind,),
            )
            self._insert_tracking(c, tracking)


class CountProjection(Projection[Any]):
    """Counts events by type: about the least work a projection can do per event."""

    name = "bench_counts"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.incr(type(domain_event).__name__, tracking)


def library_rate(carelog: CareLog, views_url: str, events: int) -> float:
    """Events per second through the library's path, over the log's first ``events``."""
    notifications = carelog.app.recorder.select_notifications(start=1, limit=events)
    target = notifications[-1].id
    if carelog.config.is_postgres:
        env = {**carelog.config.eventsourcing_env(), "CREATE_TABLE": "y"}
        started = time.perf_counter()
        with ProjectionRunner(
            application_class=CareLogApplication,
            projection_class=CountProjection,
            view_class=PostgresCounts,
            env=env,
        ) as runner:
            runner.wait(target, timeout=3600)
            elapsed = time.perf_counter() - started
        return len(notifications) / elapsed
    path = views_url[len("sqlite:///") :]
    factory = InfrastructureFactory.construct(
        Environment(
            "bench_counts", {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        )
    )
    projection = CountProjection(factory.tracking_recorder(SQLiteCounts))
    started = time.perf_counter()
    position = 0
    while position < target:
        page = carelog.app.recorder.select_notifications(
            start=position, limit=500, inclusive_of_start=False, stop=target
        )
        for notification in page:
            event = carelog.app.mapper.to_domain_event(notification)
            projection.process_event(event, Tracking("carelog", notification.id))
        position = page[-1].id
    return len(notifications) / (time.perf_counter() - started)
