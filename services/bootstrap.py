"""The composition root: builds CareLog's parts from a Config, once per process.

Everything that talks to a store, a broker or the clock is wired here and nowhere else, so
the web app, the CLI, the workers and the tests all get the same parts the same way.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

from projections.sql.connection import connect
from projections.sql.database import Database
from projections.sql.table_migrations import Component, migrate_all
from services.access.staff import StaffRegistry
from services.config import Config
from services.reading.history import History
from services.storage.file_modes import private_sqlite
from services.writing.application import CareLogApplication
from services.writing.commands import Commands

if TYPE_CHECKING:
    from projections.runner import Views
    from services.access.access_log import AccessLog
    from services.access.oidc import SingleSignOn
    from services.feeds.feed import FeedReader
    from services.integrity import Integrity
    from services.keys.keyring import KeyRing


def check_postgres_url(url: str, setting: str, what: str) -> None:
    """The PostgreSQL start-up checks (services/storage/postgres_store.check_url) for a URL about
    to be opened; nothing for SQLite (psycopg is only imported for PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        from services.storage.postgres_store import check_url

        check_url(url, setting, what)


def durable_tables() -> tuple[Component, ...]:
    """The views database's tables that cannot be rebuilt from the log and that every
    start-up creates, each with its ordered migrations (projections/sql/table_migrations.py).
    The parts that not every store runs migrate their own when they start: the relay's
    ``relay_tracking`` (services/feeds/relay.py) and single sign-on's ``staff_identity`` and
    ``staff_session_oidc`` (services/access/oidc/); the key table, beside the events, has its
    own list (services/keys/table.py)."""
    from projections.tracking import TRACKING_TABLES
    from services.access.access_log_table import ACCESS_LOG
    from services.access.sign_in_limits import FAILURE_TABLE
    from services.access.staff_sessions import SESSION_TABLE
    from services.access.staff_table import STAFF_TABLE
    from services.writing.idempotency import IDEMPOTENCY_TABLE

    return (
        STAFF_TABLE,
        SESSION_TABLE,
        FAILURE_TABLE,
        ACCESS_LOG,
        IDEMPOTENCY_TABLE,
        TRACKING_TABLES,
    )


class CareLog:
    """One process's CareLog: event store, views database, registries and services."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config.from_env()
        self._lock = threading.RLock()
        self._closers: list[Any] = []

    SERVER = "web.serving:serve"
    """The HTTP server ``carelog serve`` runs, named rather than imported: services sit
    below web, and nothing of ours imports web (pyproject's import contracts)."""

    def server(self) -> Callable[..., int]:
        """The function that serves this CareLog over HTTP (``SERVER``)."""
        module, _, name = self.SERVER.partition(":")
        serve: Callable[..., int] = getattr(importlib.import_module(module), name)
        return serve

    SCHEMA_PARTS = ("app", "staff", "access_log", "idempotency", "views")
    """The parts that create tables, functions or triggers when first built."""

    def prepare_schema(self) -> None:
        """Build every part that creates tables, one process at a time on PostgreSQL
        (services/storage/schema_lock.py): servers started together must not collide."""
        from services.storage.schema_lock import schema_lock

        with schema_lock(self.config):
            migrate_all(self.db, durable_tables())
            for part in self.SCHEMA_PARTS:
                getattr(self, part)

    @cached_property
    def app(self) -> CareLogApplication:
        if not self.config.is_postgres:
            private_sqlite(self.config.sqlite_path)
        app = CareLogApplication(
            self.config.eventsourcing_env(),
            snapshot_interval=self.config.snapshot_interval,
            keyring=self.keyring,
        )
        app.safety_hook = self.safety
        if app.snapshots is not None:
            self._closers.append(app.write_snapshots_in_background().close)
        if self.config.group_commit_ms > 0:
            committer = app.enable_group_commit(self.config.group_commit_ms / 1000)
            self._closers.append(committer.close)
        return app

    @cached_property
    def keyring(self) -> KeyRing | None:
        """Envelope encryption's keys (services/keys), if ``CARELOG_KEK`` is configured:
        the key table lives in the event store's database."""
        from services.keys.kek import load_keks
        from services.keys.keyring import KeyRing

        config = self.config
        if not config.envelope:
            return None
        keks = load_keks(config.kek, config.kek_file)
        db = self.open_event_store_db(min(config.pool_size, 2))
        self._closers.append(db.close)
        return KeyRing(db, keks, legacy_key=config.cipher_key)

    def open_event_store_db(self, pool_size: int = 2) -> Database:
        """A new connection to the event store's own database, where the key table lives
        beside the events (services/keys); the caller closes it."""
        config = self.config
        url = config.database_url
        if not config.is_postgres:
            config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{config.sqlite_path}"
        check_postgres_url(url, "CARELOG_DATABASE_URL", "the key table's database")
        return connect(url, pool_size)

    @cached_property
    def db(self) -> Database:
        views_url = self.config.effective_views_url
        if views_url.startswith("sqlite:///"):
            private_sqlite(Path(unquote(views_url[len("sqlite:///") :])))
        setting = "CARELOG_VIEWS_URL" if self.config.views_url else "CARELOG_DATABASE_URL"
        check_postgres_url(views_url, setting, "the views database")
        db = connect(self.config.effective_views_url, self.config.pool_size)
        self._closers.append(db.close)
        return db

    @cached_property
    def staff(self) -> StaffRegistry:
        from services.access.sign_in_limits import SignInLimits

        limits = SignInLimits(
            per_id=self.config.sign_in_failures_per_id,
            per_source=self.config.sign_in_failures_per_source,
            window=self.config.sign_in_window,
        )
        return StaffRegistry(self.db, limits)

    @cached_property
    def sso(self) -> SingleSignOn | None:
        """Single sign-on through the configured OpenID Connect provider (None: not set).
        Nothing is fetched from the provider until a sign-in or a bearer JWT needs it."""
        if not self.config.oidc_issuer:
            return None
        from services.access.oidc import SingleSignOn

        return SingleSignOn(self.config, self.staff)

    @cached_property
    def pack(self) -> Any:
        """The clinical rule pack; a malformed one raises ``RulePackError`` naming the
        rule and the field (the API loads it at start-up, so it never starts without)."""
        from domain.safety import default_pack, load_rule_pack

        if self.config.rule_pack:
            return load_rule_pack(Path(self.config.rule_pack))
        return default_pack()

    @cached_property
    def safety(self) -> Any:
        from services.writing.safety_check import SafetyCheck

        return SafetyCheck(self.pack)

    @cached_property
    def commands(self) -> Commands:
        return Commands(self.app, self.staff, self.config.follow_up_days, self.pack)

    @cached_property
    def history(self) -> History:
        return History(self.app, cached_events=self.config.history_cache)

    @cached_property
    def access_log(self) -> AccessLog:
        """Every read and denied attempt, apart from the patient streams."""
        from services.access.access_log import AccessLog

        return AccessLog(self.db)

    @cached_property
    def views(self) -> Views:
        """The current-plan, audit-trail and team-dashboard views and their runner
        (created or migrated here, on first use; ``start()`` to follow the log). The
        process that follows the log also signs an audit checkpoint every
        ``CARELOG_CHECKPOINT_INTERVAL`` seconds (README, "Audit review")."""
        from projections.runner import Views
        from services.cli.progress import ProgressBar

        views = Views(self.app, self.db, self.access_log, progress_factory=ProgressBar)
        interval = self.config.checkpoint_interval
        if interval > 0:  # whichever process follows the log also signs the checkpoints
            views.alongside(
                lambda stop: self.integrity.checkpoint_forever(interval, stop),
                "carelog-checkpoints",
            )
        return views

    @cached_property
    def feed(self) -> FeedReader:
        """The HTTP feeds' reader (``page``, ``follow``); its log watcher closes with us."""
        from services.feeds.feed import FeedReader

        reader = FeedReader(self.app)
        self._closers.append(reader.close)
        return reader

    @cached_property
    def idempotency(self) -> Any:
        from services.writing.idempotency import IdempotencyStore

        return IdempotencyStore(self.db)

    @cached_property
    def integrity(self) -> Integrity:
        """Audit integrity: ``checkpoint()``, ``verify(from_position=None)``,
        ``last_verified()`` (services/integrity/)."""
        from pathlib import Path

        from services.integrity import Integrity, chain_sources
        from services.integrity.checkpoints import CheckpointRecords
        from services.integrity.witness import KafkaWitness

        config = self.config
        folder = config.checkpoint_folder
        kafka = None
        if config.kafka_bootstrap:
            config.kafka_security.warn_if_insecure(config.kafka_bootstrap)
            kafka = KafkaWitness(
                config.kafka_bootstrap,
                client_id=config.kafka_client_id,
                replication=config.kafka_replication,
                security=config.kafka_security,
            )
        return Integrity(
            lambda: chain_sources(self.app.recorder, self),
            folder,
            config.signing_key_path,
            records=lambda: cast("CheckpointRecords", self.app.recorder),
            # Where CareLog kept the key by default before it moved out of the data
            # folder: a key found there is moved once (README, "Audit review").
            legacy_key=folder.parent / "signing.key",
            interval=config.checkpoint_interval,
            grace=config.checkpoint_grace,
            witness_file=Path(config.witness_file) if config.witness_file else None,
            kafka=kafka,
            old_default_folder=None if config.checkpoint_dir else Path("var/checkpoints"),
            own_folder=not config.checkpoint_dir,
        )

    def close(self) -> None:
        if "views" in self.__dict__:
            self.views.stop()
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()
        if "app" in self.__dict__:
            self.app.close()
