"""PostgreSQL settings in CARELOG_DATABASE_URL: libpq's parameters reach the event store's
connections (the eventsourcing library alone would drop them), CareLog's own ``schema``
does not, and a misspelt parameter stops start-up instead of connecting without TLS."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from services.config import Config
from services.storage.postgres_store import tls_warning, url_params

URL = (
    "postgresql://carelog:pw@db.example:5433/carelog?schema=ward&sslmode=verify-full"
    "&sslrootcert=/etc/carelog/ca.pem&sslcert=/etc/carelog/client.pem"
    "&sslkey=/etc/carelog/client.key&target_session_attrs=read-write"
    "&connect_timeout=7&application_name=carelog-api"
)


class TestEventStoreSettings:
    def test_every_libpq_parameter_reaches_the_event_store_and_schema_does_not(self) -> None:
        env = Config(database_url=URL).eventsourcing_env()
        assert env["PERSISTENCE_MODULE"] == "services.storage.postgres_store:Factory"
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
        to psycopg (projections/sql/): the same parameters, nothing dropped."""
        from projections.sql.postgres import split_schema

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


class TestTheEffectiveServer:
    """libpq connects to ``hostaddr`` (or ``PGHOST`` / a service's host) whatever the URL's
    host says: the warning follows where the connection really goes."""

    def test_a_remote_hostaddr_behind_a_local_host_name_is_warned_about(self) -> None:
        warning = tls_warning("localhost", {"hostaddr": "203.0.113.5", "sslmode": "disable"})
        assert "203.0.113.5" in str(warning)
        assert "sslmode=disable" in str(warning)

    def test_a_local_hostaddr_and_loopback_addresses_are_not(self) -> None:
        assert tls_warning("db.internal", {"hostaddr": "127.0.0.1"}, environ={}) is None
        assert tls_warning("localhost", {"hostaddr": "127.0.0.2"}, environ={}) is None
        assert tls_warning("::1", {}, environ={}) is None

    def test_pghost_counts_when_the_url_names_no_host(self) -> None:
        warning = tls_warning("", {}, environ={"PGHOST": "db.remote.example"})
        assert "db.remote.example" in str(warning)
        assert tls_warning("", {}, environ={}) is None  # the local Unix socket

    def test_a_service_without_a_host_is_taken_as_remote(self) -> None:
        warning = tls_warning("", {"service": "carelog"}, environ={})
        assert "service 'carelog'" in str(warning)
        assert tls_warning("", {"service": "carelog", "sslmode": "verify-full"}) is None

    def test_the_warning_names_the_database_and_its_setting(self) -> None:
        warning = tls_warning("views.example", {}, "the views database", "CARELOG_VIEWS_URL")
        assert str(warning).startswith("the views database at views.example")
        assert "to CARELOG_VIEWS_URL" in str(warning)


class TestEveryPostgresUrlIsChecked:
    def test_a_misspelt_parameter_in_a_url_is_named(self) -> None:
        from services.storage.postgres_store import EventStoreUnreachableError, check_url

        with pytest.raises(
            EventStoreUnreachableError, match="CARELOG_VIEWS_URL: unknown parameter sslmod "
        ):
            check_url("postgresql://p@127.0.0.1/d?sslmod=disable", "CARELOG_VIEWS_URL", "views")

    def test_a_refused_connection_is_libpqs_reason_not_a_pool_time_out(self) -> None:
        from services.storage.postgres_store import EventStoreUnreachableError, check_url

        with pytest.raises(
            EventStoreUnreachableError, match=r"cannot connect to the views .*CARELOG_VIEWS_URL"
        ):
            check_url(
                "postgresql://p@127.0.0.1:1/d?connect_timeout=2",
                "CARELOG_VIEWS_URL",
                "the views database",
            )

    def test_sqlite_urls_are_left_alone(self) -> None:
        from services.storage.postgres_store import check_url

        check_url("sqlite:////nowhere/at/all.db", "CARELOG_VIEWS_URL", "views")
