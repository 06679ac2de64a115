"""The PostgreSQL event store's connections, with every libpq setting the URL carries.

The eventsourcing library builds its connection pool from host, port, database, user and
password only (``POSTGRES_*``), so ``sslmode=verify-full``, ``sslrootcert``, client
certificates, ``target_session_attrs``, ``connect_timeout`` or ``application_name`` in
``CARELOG_DATABASE_URL`` never reached the event store. ``Factory`` is the library's own
factory plus one step: before the pool opens, the URL's libpq parameters join the pool's
connection arguments, so the event store connects exactly as the views, the listener and
the relay lock do (they hand the URL itself to psycopg).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlparse

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

from services.storage.store_errors import EventStoreUnreachableError

PARAMS_SETTING = "CARELOG_POSTGRES_PARAMS"
"""The eventsourcing environment key holding the URL's libpq parameters (URL-encoded)."""

log = logging.getLogger(__name__)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", ""})

CARELOG_PARAMS = frozenset({"schema"})
"""URL parameters CareLog itself reads; never handed to libpq."""


class UnknownParameterError(ValueError):
    """A URL parameter that is neither CareLog's nor libpq's (a typo like ``sslmod``)."""


def libpq_keywords() -> frozenset[str]:
    """Every connection parameter the installed libpq knows."""
    from psycopg import pq

    return frozenset(d.keyword.decode() for d in pq.Conninfo.get_defaults())


def url_params(url: str, setting: str = "CARELOG_DATABASE_URL") -> dict[str, str]:
    """The libpq parameters in a PostgreSQL URL's query (``schema`` left out), checked
    against libpq's own list so a misspelt ``sslmode`` is a start-up error, not a silently
    unencrypted connection."""
    query = parse_qsl(urlparse(url).query, keep_blank_values=True)
    params = {k: v for k, v in query if k not in CARELOG_PARAMS}
    unknown = sorted(set(params) - libpq_keywords())
    if unknown:
        raise UnknownParameterError(
            f"{setting}: unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (libpq's: sslmode, sslrootcert, sslcert, sslkey, "
            "target_session_attrs, connect_timeout, application_name, ...; CareLog's: schema)"
        )
    return params


def is_local_host(host: str) -> bool:
    """Loopback or a Unix-domain socket: nothing crosses a network."""
    host = host.strip().strip("[]")
    return host in LOCAL_HOSTS or host.startswith(("/", "@", "127."))


def tls_warning(
    host: str,
    params: Mapping[str, str],
    what: str = "the event store",
    setting: str = "CARELOG_DATABASE_URL",
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """What to tell an operator whose database is reached over a network without a
    verified TLS connection (libpq's default, ``prefer``, silently falls back to
    plaintext and checks no certificate); None for a local server or ``verify-full``.

    The effective server is libpq's: ``host`` and ``hostaddr`` in the query (``hostaddr``
    is the address actually connected to), else the URL's host, else ``PGHOST`` /
    ``PGHOSTADDR``; a ``service`` (pg_service.conf) with no host named is taken as remote."""
    env = os.environ if environ is None else environ
    mode = params.get("sslmode") or env.get("PGSSLMODE") or "prefer (libpq's default)"
    if mode == "verify-full":
        return None
    named_host = params.get("host") or host
    hosts = named_host or ("" if params.get("hostaddr") else env.get("PGHOST", ""))
    addrs = params.get("hostaddr") or ("" if named_host else env.get("PGHOSTADDR", ""))
    # hostaddr is the address connected to (host then only names the server for TLS)
    targets = [h for h in (addrs or hosts).split(",") if h.strip()]
    service = params.get("service") or env.get("PGSERVICE", "")
    if service and not targets:
        where = f"service {service!r} (pg_service.conf)"
    elif all(is_local_host(h) for h in targets):
        return None
    else:
        where = ", ".join(dict.fromkeys(h.strip() for h in targets))
    return (
        f"{what} at {where} is reached with sslmode={mode}: the server's certificate "
        'and name are not verified (README, "TLS to Kafka and PostgreSQL": add '
        f"sslmode=verify-full&sslrootcert=CA.pem to {setting})"
    )


_checked: set[str] = set()


def check_url(url: str, setting: str, what: str) -> None:
    """Every PostgreSQL URL CareLog opens (views, staff registry and access log, key
    table, listener, relay lock) gets the event store's start-up checks once per process:
    an unknown parameter named, a warning without verified TLS to a remote server, and a
    first connection whose failure is libpq's reason (exit 2), not a pool's time-out."""
    if not url.startswith(("postgresql://", "postgres://")) or url in _checked:
        return
    import psycopg

    from projections.sql.postgres import split_schema

    try:
        params = url_params(url, setting)
    except UnknownParameterError as exc:
        raise EventStoreUnreachableError(str(exc)) from None
    conninfo, _ = split_schema(url)
    parsed = urlparse(conninfo)
    warning = tls_warning(parsed.hostname or "", params, what, setting)
    if warning:
        log.warning(warning)
    extra: dict[str, object] = {} if "connect_timeout" in params else {"connect_timeout": 10}
    try:
        psycopg.connect(conninfo, **extra).close()  # type: ignore[arg-type]
    except psycopg.Error as exc:
        where = f"{parsed.hostname or 'localhost'}:{parsed.port or 5432}{parsed.path}"
        raise EventStoreUnreachableError(
            f"cannot connect to {what} at {where} ({setting}): {str(exc).strip()}"
        ) from exc
    _checked.add(url)


class Factory(PostgresFactory):
    """``PERSISTENCE_MODULE`` for CareLog's PostgreSQL event store."""

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        extra = dict(parse_qsl(self.env.get(PARAMS_SETTING) or "", keep_blank_values=True))
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # the library passes a dict; the pool is not open
        kwargs.update(extra)
        warning = tls_warning(str(kwargs.get("host") or ""), extra)
        if warning:
            log.warning(warning)
        self._probe(kwargs)

    @staticmethod
    def _probe(kwargs: Mapping[str, object]) -> None:
        """Connect once, now: the pool would retry a refused connection (a certificate
        that does not verify, a server that wants TLS) for 30 s and then report only
        "couldn't get a connection"; libpq's own reason is what an operator needs."""
        import psycopg

        params = {k: v for k, v in kwargs.items() if k != "row_factory"}
        params.setdefault("connect_timeout", 10)
        try:
            psycopg.connect(**params).close()  # type: ignore[arg-type]
        except psycopg.OperationalError as exc:
            where = f"{params.get('host')}:{params.get('port')}/{params.get('dbname')}"
            raise EventStoreUnreachableError(
                f"cannot connect to the event store at {where}: {str(exc).strip()}"
            ) from exc
