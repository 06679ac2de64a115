"""Configuration: the one place CareLog reads its environment (see README, "Configuration")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse

from services.feeds.kafka_security import KafkaSecurity, KafkaSecurityError

DEFAULT_DATABASE_URL = "sqlite:///./var/carelog.db"

# The event store recorders that hash-chain events (services/integrity/recorder.py).
_CHAINED_POSTGRES = "services.integrity.chained_postgres:ChainedPostgresApplicationRecorder"

_CHAINED_SQLITE = "services.integrity.chained_sqlite:ChainedSQLiteApplicationRecorder"


@dataclass(frozen=True)
class Config:
    """Every setting CareLog has, with its default."""

    database_url: str = DEFAULT_DATABASE_URL
    views_url: str | None = None
    kafka_bootstrap: str | None = None
    kafka_partitions: int = 6
    kafka_replication: int = 1
    kafka_client_id: str = "carelog"
    relay_batch_size: int = 1000
    cipher_key: str | None = None
    checkpoint_dir: str | None = None  # None: one folder per store (checkpoint_folder)
    signing_key: str | None = None  # None: the user's config folder (signing_key_path)
    checkpoint_interval: float = 60.0
    follow_up_days: int = 14
    group_commit_ms: float = 2.0
    snapshot_interval: int = 50
    record_cache: int = 1000
    history_cache: int = 20_000
    run_projections: bool = True
    views_wait_seconds: float = 2.0
    secret_key: str | None = None
    pool_size: int = 5
    rule_pack: str | None = None
    sign_in_failures_per_id: int = 10
    sign_in_failures_per_source: int = 100
    sign_in_window: float = 300.0
    max_request_bytes: int = 1024 * 1024
    extra: Mapping[str, str] = field(default_factory=dict)
    checkpoint_grace: float = 60.0
    witness_file: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_audience: str | None = None
    oidc_base_url: str | None = None
    oidc_provider_name: str = "your organisation"
    oidc_scopes: str = "openid profile email offline_access"
    oidc_role_claim: str = "groups"
    oidc_role_map: str = ""
    oidc_prescriber_group: str | None = None
    oidc_name_claim: str = "name"
    oidc_revalidate_seconds: float = 300.0
    oidc_leeway: float = 30.0
    oidc_allowed_clients: str = ""
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
    kek: str | None = None
    kek_file: str | None = None
    retention_days: float = 3652.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        def number(name: str, default: float) -> float:
            raw = get(name)
            try:
                return float(raw) if raw is not None else default
            except ValueError:
                raise SystemExit(f"{name} must be a number, not {raw!r}") from None

        return cls(
            database_url=get("CARELOG_DATABASE_URL") or DEFAULT_DATABASE_URL,
            views_url=get("CARELOG_VIEWS_URL"),
            kafka_bootstrap=get("CARELOG_KAFKA_BOOTSTRAP"),
            kafka_partitions=int(number("CARELOG_KAFKA_PARTITIONS", 6)),
            kafka_replication=int(number("CARELOG_KAFKA_REPLICATION", 1)),
            kafka_client_id=get("CARELOG_KAFKA_CLIENT_ID") or "carelog",
            relay_batch_size=int(number("CARELOG_RELAY_BATCH_SIZE", 1000)),
            cipher_key=get("CARELOG_CIPHER_KEY"),
            checkpoint_dir=get("CARELOG_CHECKPOINT_DIR"),
            signing_key=get("CARELOG_SIGNING_KEY"),
            checkpoint_interval=number("CARELOG_CHECKPOINT_INTERVAL", 60.0),
            follow_up_days=int(number("CARELOG_FOLLOW_UP_DAYS", 14)),
            group_commit_ms=number("CARELOG_GROUP_COMMIT_MS", 2.0),
            snapshot_interval=int(number("CARELOG_SNAPSHOT_INTERVAL", 50)),
            record_cache=int(number("CARELOG_RECORD_CACHE", 1000)),
            history_cache=int(number("CARELOG_HISTORY_CACHE", 20_000)),
            run_projections=(get("CARELOG_RUN_PROJECTIONS") or "1").lower()
            not in {"0", "false", "no", "off"},
            views_wait_seconds=number("CARELOG_VIEWS_WAIT_SECONDS", 2.0),
            secret_key=get("CARELOG_SECRET_KEY"),
            pool_size=int(number("CARELOG_POOL_SIZE", 5)),
            rule_pack=get("CARELOG_RULE_PACK"),
            sign_in_failures_per_id=int(number("CARELOG_SIGN_IN_FAILURES_PER_ID", 10)),
            sign_in_failures_per_source=int(number("CARELOG_SIGN_IN_FAILURES_PER_SOURCE", 100)),
            sign_in_window=number("CARELOG_SIGN_IN_WINDOW", 300.0),
            checkpoint_grace=number("CARELOG_CHECKPOINT_GRACE", 60.0),
            witness_file=get("CARELOG_WITNESS_FILE"),
            max_request_bytes=int(number("CARELOG_MAX_REQUEST_BYTES", 1024 * 1024)),
            oidc_issuer=get("CARELOG_OIDC_ISSUER"),
            oidc_client_id=get("CARELOG_OIDC_CLIENT_ID"),
            oidc_client_secret=get("CARELOG_OIDC_CLIENT_SECRET"),
            oidc_audience=get("CARELOG_OIDC_AUDIENCE"),
            oidc_base_url=get("CARELOG_OIDC_BASE_URL"),
            oidc_provider_name=get("CARELOG_OIDC_PROVIDER_NAME") or "your organisation",
            oidc_scopes=get("CARELOG_OIDC_SCOPES") or "openid profile email offline_access",
            oidc_role_claim=get("CARELOG_OIDC_ROLE_CLAIM") or "groups",
            oidc_role_map=get("CARELOG_OIDC_ROLE_MAP") or "",
            oidc_prescriber_group=get("CARELOG_OIDC_PRESCRIBER_GROUP"),
            oidc_name_claim=get("CARELOG_OIDC_NAME_CLAIM") or "name",
            oidc_revalidate_seconds=number("CARELOG_OIDC_REVALIDATE_SECONDS", 300.0),
            oidc_leeway=number("CARELOG_OIDC_LEEWAY", 30.0),
            oidc_allowed_clients=get("CARELOG_OIDC_ALLOWED_CLIENTS") or "",
            kafka_security=_kafka_security(env),
            kek=get("CARELOG_KEK"),
            kek_file=get("CARELOG_KEK_FILE"),
            retention_days=number(
                "CARELOG_RETENTION_DAYS", number("CARELOG_RETENTION_YEARS", 10.0) * 365.25
            ),
        )

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    # -- derived ---------------------------------------------------------------------------
    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    @property
    def envelope(self) -> bool:
        """Envelope encryption with per-patient data keys (services/keys) is configured."""
        return bool(self.kek or self.kek_file)

    @property
    def sqlite_path(self) -> Path:
        return _sqlite_path(self.database_url)

    @property
    def effective_views_url(self) -> str:
        if self.views_url:
            return self.views_url
        if self.is_postgres:
            return self.database_url
        path = self.sqlite_path
        return f"sqlite:///{path.with_name(path.stem + '-views' + path.suffix)}"

    @property
    def checkpoint_folder(self) -> Path:
        """Where this store's checkpoints go: ``CARELOG_CHECKPOINT_DIR``, else a folder of
        the store's own, so two stores opened from one working directory never share one
        (beside a SQLite file: ``carelog.db.checkpoints``; PostgreSQL: one per server,
        database and schema under ./var)."""
        if self.checkpoint_dir:
            return Path(self.checkpoint_dir)
        if not self.is_postgres:
            path = self.sqlite_path
            return path.with_name(path.name + ".checkpoints")
        url = urlparse(self.database_url)
        schema = dict(parse_qsl(url.query)).get("schema") or "public"
        parts = (url.hostname or "127.0.0.1", str(url.port or 5432), url.path.lstrip("/"), schema)
        name = "-".join("".join(c if c.isalnum() or c in "._" else "_" for c in p) for p in parts)
        return Path("var") / f"pg-{name}.checkpoints"

    @property
    def signing_key_path(self) -> Path:
        """The checkpoint signing key: ``CARELOG_SIGNING_KEY``, else the user's config
        folder (``$XDG_CONFIG_HOME/carelog/signing.key``, ``~/.config/carelog/``): never
        beside the data it vouches for, where whoever copies or controls the data
        directory would hold it too."""
        if self.signing_key:
            return Path(self.signing_key)
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "carelog" / "signing.key"

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for this configuration."""
        env: dict[str, str] = {}
        if self.is_postgres:
            url = urlparse(self.database_url)
            schema = dict(parse_qsl(url.query)).get("schema")
            if schema:
                env["POSTGRES_SCHEMA"] = schema
            env.update(
                # The library's factory plus the URL's libpq settings (sslmode,
                # certificates, target_session_attrs, ...), which it would otherwise drop.
                PERSISTENCE_MODULE="services.storage.postgres_store:Factory",
                CARELOG_POSTGRES_PARAMS=urlencode(
                    sorted(postgres_params(self.database_url).items())
                ),
                POSTGRES_DBNAME=(url.path or "/carelog").lstrip("/"),
                POSTGRES_HOST=url.hostname or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=unquote(url.username or "postgres"),
                POSTGRES_PASSWORD=unquote(url.password or ""),
                POSTGRES_POOL_SIZE=str(self.pool_size),
                POSTGRES_MAX_OVERFLOW="10",
                POSTGRES_CONN_MAX_AGE="",
                # No ping before each use (a round trip per statement): the library retries a
                # statement that meets a dropped connection (OperationalError) itself.
                POSTGRES_PRE_PING="n",
                POSTGRES_LOCK_TIMEOUT="10",
                POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT="30",
                POSTGRES_ENABLE_DB_FUNCTIONS="n",
                # Chains each event in its insert transaction (services/integrity/recorder.py).
                APPLICATION_RECORDER_TOPIC=_CHAINED_POSTGRES,
            )
        else:
            path = self.sqlite_path
            path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(path),
                SQLITE_LOCK_TIMEOUT="30",
                APPLICATION_RECORDER_TOPIC=_CHAINED_SQLITE,
            )
        if self.record_cache > 0:
            # A command starts from the cached record and reads only the events after it
            # (fast-forward), so another process's writes are never missed; the optimistic
            # version check on save still refuses a stale decision.
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.record_cache)
            env["AGGREGATE_CACHE_FASTFORWARD"] = "y"
        if self.cipher_key and not self.envelope:
            env.update(
                CIPHER_TOPIC="eventsourcing.cryptography:AESCipher", CIPHER_KEY=self.cipher_key
            )
        return env


def postgres_params(url: str, setting: str = "CARELOG_DATABASE_URL") -> dict[str, str]:
    """The libpq parameters of a PostgreSQL URL; an unknown one stops start-up."""
    from services.storage.postgres_store import UnknownParameterError, url_params  # needs psycopg

    try:
        return url_params(url, setting)
    except UnknownParameterError as exc:
        raise SystemExit(f"carelog: {exc}") from None


def _kafka_security(env: Mapping[str, str]) -> KafkaSecurity:
    try:
        return KafkaSecurity.from_env(env)
    except KafkaSecurityError as exc:
        raise SystemExit(f"carelog: {exc}") from None


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///"):
        raise SystemExit(
            f"CARELOG_DATABASE_URL must start with sqlite:/// or postgresql://, not {url!r}"
        )
    return Path(unquote(url[len("sqlite:///") :]))
