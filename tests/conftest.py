"""Fixtures shared by every test folder: the stores (SQLite and PostgreSQL), a CareLog built
on them, and staff to act as.

Tests that take the ``store`` fixture run once per store. PostgreSQL is the real server on
127.0.0.1:5432 (started here if it is down); each run creates its own database and drops it
afterwards, and each test gets its own schema inside it. If PostgreSQL cannot be reached,
those tests fail loudly: they are never skipped.

Encryption at rest: ``--cipher on`` runs every store-parametrised test with the event store
encrypted (a "<store>+cipher" parametrisation); ``@pytest.mark.cipher`` on a test, class or
module adds one encrypted parametrisation to its stores instead, and every test under
``tests/api`` gets that one as well: the whole HTTP API is exercised encrypted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from domain.actor import Actor
from services.bootstrap import CareLog
from services.config import Config
from tests.oidc_support import oidc_provider  # noqa: F401 - a fixture: the SSO tests' provider

PG_ADMIN_URL = os.environ.get("CARELOG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STORES = ("sqlite", "postgres")
ENCRYPTED_TOO = (Path(__file__).resolve().parent / "api",)  # folders whose tests also run encrypted
TEST_CIPHER_KEY = AESCipher.create_key(num_bytes=32)
TEST_KEK = "test-kek:" + TEST_CIPHER_KEY  # envelope encryption's key-encryption key


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=("all", *STORES),
        default="all",
        help="which event stores the store-parametrised tests run on",
    )
    parser.addoption(
        "--cipher",
        choices=("off", "on", "envelope"),
        default="off",
        help="on: run every store-parametrised test with the event store "
        "encrypted (CARELOG_CIPHER_KEY set); envelope: the same with per-patient data keys "
        "(CARELOG_KEK set)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--store")
        stores = list(STORES if chosen == "all" else (chosen,))
        # Encryption at rest: "<store>+cipher" runs on that store with a cipher key set.
        if metafunc.config.getoption("--cipher") in ("on", "envelope"):
            stores = [f"{s}+cipher" for s in stores]
        elif metafunc.definition.get_closest_marker("cipher") or _encrypted_too(metafunc):
            stores.append(f"{stores[-1]}+cipher")  # one more parametrisation, encrypted
        metafunc.parametrize("store", stores, indirect=True)


def _encrypted_too(metafunc: pytest.Metafunc) -> bool:
    path = Path(metafunc.definition.path).resolve()
    return any(path.is_relative_to(folder) for folder in ENCRYPTED_TOO)


def _pg_ready() -> bool:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _start_postgres() -> None:
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(autouse=True, scope="session")
def _cheaper_token_hashing() -> Iterator[None]:
    """Tokens stay scrypt-hashed, at a cost that suits a suite creating thousands of them."""
    from services import staff

    original = dict(staff.SCRYPT)
    staff.SCRYPT.update(n=2**8)
    yield
    staff.SCRYPT.clear()
    staff.SCRYPT.update(original)


@pytest.fixture(autouse=True)
def _signing_keys_in_a_test_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint signing key defaults to the user's config folder: each test (and the
    CLIs it starts) keeps its own in a temporary one, never in the real home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config-home")))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end."""
    import psycopg

    if not _pg_ready():
        _start_postgres()
        for _ in range(30):
            if _pg_ready():
                break
            time.sleep(1)
        else:
            pytest.fail(
                f"PostgreSQL is not reachable at {PG_ADMIN_URL}: the PostgreSQL half "
                "of the suite cannot run (it is never skipped)."
            )
    name = f"carelog_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty event store's URL: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param.removesuffix("+cipher") == "sqlite":
        yield f"sqlite:///{tmp_path / 'carelog.db'}"
        return
    import psycopg

    database = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{database}?schema={schema}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def config(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    callspec = getattr(request.node, "callspec", None)
    encrypted = callspec is not None and str(callspec.params.get("store")).endswith("+cipher")
    envelope = encrypted and request.config.getoption("--cipher") == "envelope"
    return Config(
        database_url=store,
        cipher_key=TEST_CIPHER_KEY if encrypted and not envelope else None,
        kek=TEST_KEK if envelope else None,
        checkpoint_dir=str(tmp_path / "checkpoints"),
        run_projections=False,
        group_commit_ms=0,
        secret_key="test-secret",
        pool_size=4,
    )


@pytest.fixture
def carelog(config: Config) -> Iterator[CareLog]:
    instance = CareLog(config)
    yield instance
    instance.close()


@dataclass
class Team:
    """Staff for tests: a care team and the people who are not on it."""

    psychiatrist: Actor
    therapist: Actor
    pharmacist: Actor
    prescribing_pharmacist: Actor
    auditor: Actor
    admin: Actor
    outsider: Actor  # a psychiatrist on no care team
    tokens: dict[str, str]


def make_team(carelog: CareLog) -> Team:
    actors: dict[str, Actor] = {}
    tokens: dict[str, str] = {}
    for key, role, prescriber in (
        ("psychiatrist", "psychiatrist", False),
        ("therapist", "therapist", False),
        ("pharmacist", "pharmacist", False),
        ("prescribing_pharmacist", "pharmacist", True),
        ("auditor", "auditor", False),
        ("admin", "admin", False),
        ("outsider", "psychiatrist", False),
    ):
        member, token = carelog.staff.add(f"Test {key}", role, prescriber)
        actors[key] = member.actor
        tokens[key] = token
    return Team(**actors, tokens=tokens)


@pytest.fixture
def team(carelog: CareLog) -> Team:
    return make_team(carelog)


def pytest_report_header(config: pytest.Config) -> str:
    chosen = config.getoption("--store")
    stores = STORES if chosen == "all" else (chosen,)
    return f"carelog event stores: {', '.join(stores)} (PostgreSQL at {PG_ADMIN_URL})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Shows that each store was really exercised: store-parametrised results per store."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call" and outcome == "passed":
                continue
            params = getattr(report, "keywords", {})
            for store in (*STORES, *(f"{s}+cipher" for s in STORES)):
                if store in params:
                    counts.setdefault(store, {}).setdefault(outcome, 0)
                    counts[store][outcome] += 1
    if counts:
        terminalreporter.section("tests per event store")
        for store, by_outcome in sorted(counts.items()):
            line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(by_outcome.items()))
            terminalreporter.write_line(f"{store}: {line}")
