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

Which tests run on every store, and which once (the rule; ``tests/README.md`` has it too):

- **Every store** (the default, and so the rule for a new test): whatever the store can
  change: the event store itself, concurrency (If-Match, idempotency), positions and
  ``min_position``, tracking and the views, the access log, encryption, integrity,
  backup, erasure, the relay and feeds, input a store may refuse (NUL, surrogates, huge
  numbers), and the browser pages that the views keep live.
- **One store** (``@pytest.mark.store_independent`` on the module, class or test):
  behaviour decided above the store and identical on each: validation and refusals,
  authorization, the safety rules, FHIR and vocabularies, OpenAPI, the pages' markup. It
  runs on SQLite (or on the one store ``--store`` names), unencrypted unless it also has
  ``@pytest.mark.cipher``; the folder-wide encrypted run of ``tests/api`` skips it.
- ``@pytest.mark.unencrypted``: every store, but not the extra encrypted one (encryption
  only changes the bytes of stored events, which the test cannot tell apart).

Parallel runs (pytest-xdist, ``make test``): each worker has its own PostgreSQL database
(named by worker id), its own Kafka brokers, ports and temporary folders; nothing here is
shared between workers but the PostgreSQL server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis
import pytest
from eventsourcing.cryptography import AESCipher
from flask import Flask

from domain.actor import Actor
from services.bootstrap import CareLog
from services.config import Config
from tests.oidc_support import oidc_provider  # noqa: F401 - a fixture: the SSO tests' provider
from tests.parallel import worker_id

if TYPE_CHECKING:
    from tests.pg_pool import SchemaPool

hypothesis.settings.register_profile("deterministic", derandomize=True, print_blob=True)
hypothesis.settings.register_profile("explore", derandomize=False, print_blob=True)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
"""Property tests draw the same examples on every run (``deterministic``), so a run on a clean
clone passes or fails on the code alone; ``make test-explore`` (profile ``explore``) draws new
ones each run, to look for what the fixed draw misses, and a failure prints the blob that
replays it (``@reproduce_failure``)."""

PG_ADMIN_URL = os.environ.get("CARELOG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STORES = ("sqlite", "postgres")
ENCRYPTED_TOO = (Path(__file__).resolve().parent / "api",)  # folders whose tests also run encrypted
TEST_CIPHER_KEY = AESCipher.create_key(num_bytes=32)
TEST_KEK = "test-kek:" + TEST_CIPHER_KEY  # envelope encryption's key-encryption key
VIEWS_WAIT_SECONDS = 0.05
"""The ``config`` fixture's ``views_wait_seconds``: its views run only when a test asks."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        choices=("all", *STORES),
        default="all",
        help="which event stores the store-parametrised tests run on",
    )
    parser.addoption(
        "--cipher",
        choices=("off", "on", "envelope", "none"),
        default="off",
        help="on: run every store-parametrised test with the event store "
        "encrypted (CARELOG_CIPHER_KEY set); envelope: the same with per-patient data keys "
        "(CARELOG_KEK set); none: not even the encrypted runs tests/api and "
        "@pytest.mark.cipher add (make test-quick)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", stores_for(metafunc), indirect=True)


def stores_for(metafunc: pytest.Metafunc) -> list[str]:
    """The stores one test runs on (the rule is in this module's docstring)."""
    chosen = metafunc.config.getoption("--store")
    stores = list(STORES if chosen == "all" else (chosen,))
    marked = metafunc.definition.get_closest_marker
    independent = marked("store_independent") is not None
    if independent:
        stores = stores[:1]
    # Encryption at rest: "<store>+cipher" runs on that store with a cipher key set.
    cipher = metafunc.config.getoption("--cipher")
    if cipher in ("on", "envelope"):
        return [f"{s}+cipher" for s in stores]
    if cipher == "none":
        return stores
    if marked("cipher") or (
        _encrypted_too(metafunc) and not independent and not marked("unencrypted")
    ):
        stores.append(f"{stores[-1]}+cipher")  # one more parametrisation, encrypted
    return stores


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
    from services.access import staff

    original = dict(staff.SCRYPT)
    staff.SCRYPT.update(n=2**8)
    yield
    staff.SCRYPT.clear()
    staff.SCRYPT.update(original)


@pytest.fixture(autouse=True, scope="session")
def _one_openapi_document_per_process() -> Iterator[None]:
    """Each app a test builds gets the OpenAPI document the first one built in this process.

    The document is a function of the code alone (the routes and their schemas), the same
    for every app; generating it is most of ``create_app``'s cost (0.3-0.5 s), paid by every
    API test otherwise. The first app builds it for real; the later ones skip flask-smorest's
    generation and serve that same document."""
    import flask_smorest

    import web
    from web import openapi_links

    original = web._register_api
    built: list[Any] = []

    def register_api(app: Flask) -> None:
        if not built:
            original(app)
            built.append(app.extensions["carelog_api"].spec)
            return
        generate = flask_smorest.Blueprint.register_views_in_doc
        link = openapi_links.add_links  # the links join paths this app's document lacks
        flask_smorest.Blueprint.register_views_in_doc = lambda *a, **kw: None  # type: ignore[method-assign]
        openapi_links.add_links = lambda paths: None
        try:
            original(app)
        finally:
            flask_smorest.Blueprint.register_views_in_doc = generate  # type: ignore[method-assign]
            openapi_links.add_links = link
        app.extensions["carelog_api"].spec = built[0]

    web._register_api = register_api
    yield
    web._register_api = original


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
    name = f"carelog_test_{worker_id()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _drop_database_in_the_background(name)


def _drop_database_in_the_background(name: str) -> None:
    """Drops a test database without the worker waiting for it.

    ``DROP DATABASE`` waits for a checkpoint: seconds on a busy machine (6-25 s measured),
    paid at the very end of each worker's run, when nothing else is left to overlap it.
    A detached process drops it instead; the name is unique to this run, so nothing waits
    on it."""
    import sys

    drop = (
        "import sys, psycopg\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
        "    conn.execute(sys.argv[2])\n"
    )
    statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    subprocess.Popen(
        [sys.executable, "-c", drop, PG_ADMIN_URL, statement],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty event store's URL: a SQLite file, or a PostgreSQL schema of its own.

    On PostgreSQL the schema comes emptied from this worker's pool of used ones
    (tests/pg_pool.py), except for tests about creating or migrating a store
    (``fresh_store``) and tests that start carelog processes (``served``): theirs is new,
    and dropped afterwards."""
    if request.param.removesuffix("+cipher") == "sqlite":
        yield f"sqlite:///{tmp_path / 'carelog.db'}"
        return
    import psycopg

    from tests import pg_pool

    database = request.getfixturevalue("postgres_database")
    node = request.node
    if pg_pool.ENABLED and not (
        node.get_closest_marker("fresh_store") or node.get_closest_marker("served")
    ):
        pool = _schema_pool(database, request.param.endswith("+cipher"), request.config)
        schema = pool.take()
        yield f"{database}?schema={schema}"
        pool.give_back(schema)
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{database}?schema={schema}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


_SCHEMA_POOLS: dict[tuple[str, bool], SchemaPool] = {}
"""This worker's pools of used schemas: one per database, encrypted or not (an encrypted
store may keep its keys in tables a plain one has not)."""


def _schema_pool(database: str, encrypted: bool, options: pytest.Config) -> SchemaPool:
    from tests.pg_pool import SchemaPool

    def prime(url: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            carelog = CareLog(store_config(url, Path(tmp), encrypted, options))
            carelog.app  # noqa: B018 - opening them creates their tables, as a test does
            carelog.views  # noqa: B018
            make_team(carelog)
            carelog.close()

    key = (database, encrypted)
    if key not in _SCHEMA_POOLS:
        _SCHEMA_POOLS[key] = SchemaPool(database, prime)
    return _SCHEMA_POOLS[key]


@pytest.fixture
def config(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    callspec = getattr(request.node, "callspec", None)
    encrypted = callspec is not None and str(callspec.params.get("store")).endswith("+cipher")
    return store_config(store, tmp_path, encrypted, request.config)


def store_config(store: str, tmp_path: Path, encrypted: bool, options: pytest.Config) -> Config:
    """The ``config`` fixture's configuration of a store (also the schema pool's primer)."""
    envelope = encrypted and options.getoption("--cipher") == "envelope"
    return Config(
        database_url=store,
        cipher_key=TEST_CIPHER_KEY if encrypted and not envelope else None,
        kek=TEST_KEK if envelope else None,
        checkpoint_dir=str(tmp_path / "checkpoints"),
        run_projections=False,
        group_commit_ms=0,
        # No view runner here (tests catch up when they choose): a read that waits for the
        # views can only time out, so it does so at once instead of after 2 s.
        views_wait_seconds=VIEWS_WAIT_SECONDS,
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


def store_of(nodeid: str) -> str | None:
    """The store a test ran on, from its id's parameters (``test_x[postgres+cipher-plan]``)."""
    params = nodeid.split("[", 1)[1][:-1].split("-") if nodeid.endswith("]") else []
    return next((p for p in params if p.removesuffix("+cipher") in STORES), None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Shows that each store was really exercised: store-parametrised results per store,
    and how many tests ran on none (a test that takes no ``store``)."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if outcome == "passed" and getattr(report, "when", "call") != "call":
                continue
            nodeid = getattr(report, "nodeid", "")
            if not nodeid:
                continue
            store = store_of(nodeid) or "no store"
            counts.setdefault(store, {}).setdefault(outcome, 0)
            counts[store][outcome] += 1
    if counts:
        terminalreporter.section("tests per event store")
        for store, by_outcome in sorted(counts.items()):
            line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(by_outcome.items()))
            terminalreporter.write_line(f"{store}: {line}")
