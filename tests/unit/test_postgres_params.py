"""PostgreSQL settings in CARELOG_DATABASE_URL: libpq's parameters reach the event store's
connections (the eventsourcing library alone would drop them), CareLog's own ``schema``
does not, and a misspelt parameter stops start-up instead of connecting without TLS."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from services.config import Config
from services.postgres_store import tls_warning, url_params

URL = (
    "postgresql://carelog:pw@db.example:5433/carelog?schema=ward&sslmode=verify-full"
    "&sslrootcert=/etc/carelog/ca.pem&sslcert=/etc/carelog/client.pem"
    "&sslkey=/etc/carelog/client.key&target_session_attrs=read-write"
    "&connect_timeout=7&application_name=carelog-api"
)


class TestEventStoreSettings:
    def test_every_libpq_parameter_reaches_the_event_store_and_schema_does_not(self) -> None:
        env = Config(database_url=URL).eventsourcing_env()
        assert env["PERSISTENCE_MODULE"] == "services.postgres_store:Factory"
        assert dict(parse_qsl(env["CARELOG_POSTGRES_PARAMS"])) == {
            "sslmode": "verify-full",
            "sslrootcert": "/etc/carelog/ca.pem",
            "sslcert": "/etc/carelog/client.pem",
            "sslkey": "/etc/carelog/client.key",
            "target_session_attrs": "read-write",
            "connect_timeout": "7",
            "application_name": "carelog-api",
        }
        assert env["POSTGRES_SCHEMA"] == "ward"
        assert env["POSTGRES_HOST"] == "db.example"
        assert env["POSTGRES_PORT"] == "5433"

    def test_a_url_without_parameters_adds_none(self) -> None:
        env = Config(database_url="postgresql://postgres@127.0.0.1/carelog").eventsourcing_env()
        assert env["CARELOG_POSTGRES_PARAMS"] == ""

    def test_a_misspelt_parameter_stops_start_up_naming_it(self) -> None:
        config = Config(database_url="postgresql://p@h/d?sslmod=verify-full")
        with pytest.raises(SystemExit, match="unknown parameter sslmod "):
            config.eventsourcing_env()

    def test_the_views_url_keeps_the_parameters_too(self) -> None:
        """Views, staff registry, access log, listener and relay lock hand the URL itself
        to psycopg (projections/database.py): the same parameters, nothing dropped."""
        from projections.database import split_schema

        conninfo, schema = split_schema(Config(database_url=URL).effective_views_url)
        assert schema == "ward"
        assert url_params(conninfo) == {
            k: v for k, v in parse_qsl(URL.split("?")[1]) if k != "schema"
        }


class TestTlsWarning:
    def test_a_remote_server_without_verify_full_is_warned_about(self) -> None:
        assert "sslmode=prefer" in str(tls_warning("db.example", {}))
        assert "sslmode=require" in str(tls_warning("db.example", {"sslmode": "require"}))

    def test_verify_full_or_a_local_server_is_not(self) -> None:
        assert tls_warning("db.example", {"sslmode": "verify-full"}) is None
        assert tls_warning("127.0.0.1", {}) is None
        assert tls_warning("/var/run/postgresql", {}) is None
