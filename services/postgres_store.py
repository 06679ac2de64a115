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
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlparse

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

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


def tls_warning(host: str, params: Mapping[str, str]) -> str | None:
    """What to tell an operator whose event store is reached over a network without a
    verified TLS connection (libpq's default, ``prefer``, silently falls back to
    plaintext and checks no certificate); None for a local server or ``verify-full``."""
    if host in LOCAL_HOSTS or host.startswith("/"):
        return None
    mode = params.get("sslmode", "prefer (libpq's default)")
    if mode == "verify-full":
        return None
    return (
        f"the event store at {host} is reached with sslmode={mode}: the server's certificate "
        'and name are not verified (README, "TLS to Kafka and PostgreSQL": add '
        "sslmode=verify-full&sslrootcert=CA.pem to CARELOG_DATABASE_URL)"
    )


class EventStoreUnreachableError(RuntimeError):
    """The event store's server refused or failed the first connection."""


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
