"""CareLog against a PostgreSQL server that accepts TLS only (tests/postgres_tls.py): the
TLS settings in ``CARELOG_DATABASE_URL`` reach every connection (event store, views and
staff registry, access log, LISTEN/NOTIFY, the CLI), the server's certificate is checked
against the CA the URL names, and the client certificate the URL names is presented. The
server refuses any connection without TLS or without that certificate, so getting through
at all proves both; ``pg_stat_ssl`` is asked as well."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from domain.command_context import CommandContext
from projections.sql.postgres import split_schema
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import make_team
from tests.postgres_tls import TlsCluster, new_cluster, postgres_bin
from tests.synthetic_patients import prescribe, register
from tests.tls_support import CertificateAuthority, make_ca

BIN = postgres_bin()
pytestmark = [
    pytest.mark.skipif(
        BIN is None, reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    ),
    pytest.mark.xdist_group("postgres_tls"),  # one worker starts the module's TLS cluster
]
REPO = Path(__file__).parents[2]
APP_NAME = "carelog-tls-test"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return make_ca(tmp_path_factory.mktemp("pg-ca"))


@pytest.fixture(scope="module")
def cluster(ca: CertificateAuthority) -> Iterator[TlsCluster]:
    assert BIN is not None
    server = new_cluster(BIN)
    try:
        server.start(ca)
        yield server
    finally:
        server.stop()


def tls_params(ca: CertificateAuthority, root: Path | None = None) -> dict[str, str]:
    return {
        "sslmode": "verify-full",
        "sslrootcert": str(root or ca.ca),
        "sslcert": str(ca.client_cert),
        "sslkey": str(ca.client_key),
    }


@pytest.fixture
def tls_url(cluster: TlsCluster, ca: CertificateAuthority) -> Iterator[str]:
    """A fresh schema on the TLS-only cluster, reached with verify-full and a client
    certificate."""
    admin = cluster.url(**tls_params(ca))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield cluster.url(
        schema=schema, application_name=APP_NAME, connect_timeout="10", **tls_params(ca)
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def tls_config(url: str, tmp_path: Path) -> Config:
    return Config(
        database_url=url,
        checkpoint_dir=str(tmp_path / "checkpoints"),
        run_projections=False,
        group_commit_ms=0,
        secret_key="test-secret",
        pool_size=2,
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def sessions(url: str) -> list[tuple[bool, str | None]]:
    """(TLS?, client certificate's subject) of every CareLog connection on the server."""
    with psycopg.connect(split_schema(url)[0]) as conn:
        rows = conn.execute(
            "SELECT s.ssl, s.client_dn FROM pg_stat_ssl s JOIN pg_stat_activity a "
            "ON a.pid = s.pid WHERE a.application_name = %s AND a.pid <> pg_backend_pid()",
            (APP_NAME,),
        ).fetchall()
    return [(bool(r[0]), r[1]) for r in rows]


class TestCareLogOverTls:
    def test_writes_and_reads_go_over_verified_tls_with_the_client_certificate(
        self, tls_url: str, tmp_path: Path
    ) -> None:
        carelog = CareLog(tls_config(tls_url, tmp_path))
        try:
            team = make_team(carelog)  # staff registry (views database)
            ctx = CommandContext(team.psychiatrist)
            pid = register(carelog, ctx, "MRN-TLS-1", "Synthetic TLS")
            prescribe(carelog, ctx, pid)
            carelog.views.start()  # the view runner and its LISTEN/NOTIFY connection
            wait_until(lambda: carelog.views.listening, "the listener over TLS")
            position = carelog.app.recorder.max_notification_id()
            assert carelog.views.wait_for(int(position or 0), timeout=60)
            plan = carelog.views.current_plan.get(pid)
            seen = sessions(tls_url)
        finally:
            carelog.close()

        assert plan is not None
        assert "sertraline" in str(plan)
        assert len(seen) >= 3  # the event store's pool, the views' pool, the listener
        assert all(tls for tls, _ in seen)
        assert {dn for _, dn in seen} == {"/CN=carelog"}

    def test_the_relays_advisory_lock_holds_its_session_over_tls(self, tls_url: str) -> None:
        from services.feeds.relay_lock import AdvisoryLock

        with AdvisoryLock(tls_url) as lock:
            lock.check()
            seen = sessions(tls_url)
        assert seen == [(True, "/CN=carelog")]

    def test_the_cli_reaches_the_store_over_tls(self, tls_url: str, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "CARELOG_DATABASE_URL": tls_url,
            "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
            "CARELOG_RUN_PROJECTIONS": "0",
        }
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "services.cli.main",
                "users",
                "add",
                "Dr TLS",
                "--role",
                "admin",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert added.returncode == 0, added.stderr
        verified = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "verify"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr


class TestRefusals:
    def test_verify_full_against_another_ca_fails_naming_the_certificate(
        self, cluster: TlsCluster, ca: CertificateAuthority, tmp_path: Path
    ) -> None:
        other = make_ca(tmp_path / "other", name="Not the server's CA")
        url = cluster.url(connect_timeout="5", **tls_params(ca, root=other.ca))
        carelog = CareLog(tls_config(url, tmp_path).with_(run_projections=False))
        try:
            with pytest.raises(Exception, match="certificate verify failed") as caught:
                carelog.app  # noqa: B018 - opening the event store connects
        finally:
            carelog.close()
        assert "password" not in str(caught.value).lower()

    def test_the_cli_names_the_certificate_failure(
        self, cluster: TlsCluster, ca: CertificateAuthority, tmp_path: Path
    ) -> None:
        other = make_ca(tmp_path / "other", name="Not the server's CA")
        env = {
            **os.environ,
            "CARELOG_DATABASE_URL": cluster.url(
                connect_timeout="5", **tls_params(ca, root=other.ca)
            ),
            "CARELOG_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        }
        result = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "verify"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2
        assert "cannot connect to the event store" in result.stderr
        assert "certificate verify failed" in result.stderr
        assert "Traceback" not in result.stderr

    def test_the_server_refuses_a_connection_without_tls(self, cluster: TlsCluster) -> None:
        """The check that makes the test above meaningful: this server really is TLS-only."""
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            psycopg.connect(cluster.url(sslmode="disable", connect_timeout="5")).close()

    def test_the_server_refuses_tls_without_the_client_certificate(
        self, cluster: TlsCluster, ca: CertificateAuthority
    ) -> None:
        url = cluster.url(sslmode="verify-full", sslrootcert=str(ca.ca), connect_timeout="5")
        with pytest.raises(psycopg.OperationalError, match="certificate"):
            psycopg.connect(url).close()
