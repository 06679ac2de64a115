"""The tables that cannot be rebuilt from the log change only by their ordered migrations
(projections/sql/table_migrations.py): a store created at any earlier version, or before
versions were recorded, keeps its rows when CareLog starts and gets the new columns; a
second start changes nothing; two processes starting at once on a fresh store both start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projections.sql.database import Database
from projections.sql.table_migrations import (
    VERSIONS,
    Component,
    Migration,
    columns,
    migrate,
    migrate_all,
    version,
)
from projections.tracking import quarantine, skipped_versions
from services.access.oidc.identities import IDENTITY_TABLE
from services.access.oidc.sessions import OIDC_SESSION_TABLE
from services.access.staff import _hash
from services.bootstrap import CareLog, durable_tables
from services.config import Config
from services.feeds.relay import TRACKING_TABLE as RELAY_TRACKING

pytestmark = pytest.mark.fresh_store  # creating and migrating stores: never a used schema

START_UP = {c.name: c for c in durable_tables()}
OWN_START = {c.name: c for c in (RELAY_TRACKING, IDENTITY_TABLE, OIDC_SESSION_TABLE)}
"""Tables migrated when their part starts (the relay, single sign-on), which not every
store runs: their start is ``migrate``, as in ``Relay.ensure_table`` and the SSO classes."""
COMPONENTS = {**START_UP, **OWN_START}
OLD_SECRET = "old-secret"
SALT = "00" * 16
WHEN = "2025-01-02T03:04:05+00:00"
SEEDS: dict[str, tuple[str, dict[str, Any]]] = {
    "staff": (
        "staff",
        {
            "id": "s-old",
            "name": "Dr Old Hand",
            "role": "psychiatrist",
            "prescriber": 0,
            "token_salt": SALT,
            "token_hash": "",  # set in ``seed``: the cost is the suite's
            "active": 1,
            "created_at": WHEN,
        },
    ),
    "staff_session": (
        "staff_session",
        {
            "id": "sess-1",
            "staff_id": "s-old",
            "token_hash": "h",
            "started_at": WHEN,
            "expires_at": "2025-01-02T11:04:05.000000Z",
        },
    ),
    "sign_in_failure": ("sign_in_failure", {"scope": "pair", "key": "s-x|10.0.0.1", "at": 1.5}),
    "staff_identity": (
        "staff_identity",
        {"issuer": "https://idp.test", "subject": "sub-1", "staff_id": "s-old", "linked_at": WHEN},
    ),
    "staff_session_oidc": (
        "staff_session_oidc",
        {
            "session_id": "sess-1",
            "subject": "sub-1",
            "tokens": "sealed",
            "confirmed_at": 2.5,
            "next_check_at": 3.5,
        },
    ),
    "access_log": (
        "access_log",
        {
            "at": WHEN,
            "actor_id": "s-old",
            "actor_role": "psychiatrist",
            "patient_id": "p-1",
            "what": "chart",
            "request_id": "r-1",
            "source": "127.0.0.1",
            "allowed": 1,
            "flagged": 0,
            "kind": "read",
        },
    ),
    "idempotency_keys": (
        "idempotency_keys",
        {
            "actor_id": "s-old",
            "key": "k-1",
            "request_hash": "f",
            "status": 201,
            "body": "{}",
            "headers": "{}",
            "created_at": WHEN,
        },
    ),
    "relay_tracking": (
        "relay_tracking",
        {"name": "carelog", "last_position": 42, "updated_at": WHEN},
    ),
    "view_tracking": (
        "view_quarantine",
        {
            "name": "current_plan",
            "stream": "patients",
            "position": 7,
            "topic": "t",
            "patient_id": "p-1",
            "error": "KeyError: 'x'",
            "first_seen_at": WHEN,
            "last_seen_at": WHEN,
            "status": "skipped",  # an operator's decision, recorded nowhere else
            "resolved_by": "s-old",
            "reason": "known bad import",
        },
    ),
}
"""A row valid at version 1 of each component (later versions only add columns)."""

STORES_AT = [
    pytest.param(name, at, recorded, id=f"{name}-v{at}{'' if recorded else '-unrecorded'}")
    for name, component in COMPONENTS.items()
    for at in range(1, component.latest + 1)
    for recorded in (True, False)
]
"""Each component at each version, its version recorded or (a store created before the
runner) not."""


@pytest.fixture
def views_db(config: Config) -> Iterator[Database]:
    """The views database of a store nothing has started on yet."""
    carelog = CareLog(config)
    try:
        yield carelog.db
    finally:
        carelog.close()


def seed(db: Database, component: str) -> dict[str, Any]:
    table, row = SEEDS[component]
    if table == "staff":
        row = {**row, "token_hash": _hash(OLD_SECRET, SALT)}
    marks = ", ".join("?" * len(row))
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values()))
    return row


def stored(db: Database, component: str) -> list[dict[str, Any]]:
    table, row = SEEDS[component]
    return db.query(f"SELECT {', '.join(row)} FROM {table}")


def start(config: Config) -> CareLog:
    """What a server does at start-up (web.create_app)."""
    carelog = CareLog(config)
    carelog.prepare_schema()
    for component in OWN_START.values():
        migrate(carelog.db, component)
    return carelog


def versions(db: Database) -> dict[str, int]:
    return {r["component"]: int(r["version"]) for r in db.query(f"SELECT * FROM {VERSIONS}")}


class TestUpgradingAStore:
    @pytest.mark.parametrize(("name", "at", "recorded"), STORES_AT)
    def test_rows_written_at_an_earlier_version_survive_the_next_start(
        self, config: Config, views_db: Database, name: str, at: int, recorded: bool
    ) -> None:
        component = COMPONENTS[name]
        assert migrate(views_db, component, upto=at) == at
        row = seed(views_db, name)
        if not recorded:
            views_db.execute(f"DELETE FROM {VERSIONS} WHERE component = ?", (name,))

        carelog = start(config)
        try:
            assert versions(carelog.db) == {c: COMPONENTS[c].latest for c in COMPONENTS}
            found = stored(carelog.db, name)
            if name == "staff":
                member = carelog.staff.authenticate(f"s-old.{OLD_SECRET}")
                assert member is not None
                assert member.name == "Dr Old Hand"
            assert [{k: r[k] for k in row} for r in found] == [row]
        finally:
            carelog.close()

    @pytest.mark.parametrize("recorded", [True, False], ids=["recorded", "unrecorded"])
    def test_access_log_entries_from_before_the_chain_are_sealed_and_chained_onto(
        self, config: Config, views_db: Database, recorded: bool
    ) -> None:
        migrate(views_db, COMPONENTS["access_log"], upto=1)
        seed(views_db, "access_log")
        if not recorded:
            views_db.execute(f"DELETE FROM {VERSIONS} WHERE component = 'access_log'")

        carelog = start(config)
        try:
            carelog.access_log.record(
                actor_id="s-new",
                actor_role="admin",
                patient_id=None,
                what="staff list",
                request_id="r-2",
                source="127.0.0.1",
            )
            hashes = carelog.db.query("SELECT hash FROM access_log ORDER BY position")
            assert len(hashes) == 2
            assert all(h["hash"] is not None for h in hashes)
            result = carelog.integrity.verify()
            assert result.ok, result.problems
            assert result.chains["access"].records == 2
            with pytest.raises(Exception, match="append-only"):
                carelog.db.execute("DELETE FROM access_log")
        finally:
            carelog.close()

    def test_an_item_quarantined_before_record_versions_were_kept_can_be_skipped_by_version(
        self, config: Config, views_db: Database
    ) -> None:
        migrate(views_db, COMPONENTS["view_tracking"], upto=1)
        seed(views_db, "view_tracking")
        assert "originator_version" not in _columns(views_db, "view_quarantine")

        carelog = start(config)
        try:
            quarantine(carelog.db, "current_plan", "patients", 8, "t", "p-1", 3, KeyError("y"))
            carelog.db.execute("UPDATE view_quarantine SET status = 'skipped'")
            assert skipped_versions(carelog.db, "current_plan", "p-1") == {3}
            assert len(stored(carelog.db, "view_tracking")) == 2
        finally:
            carelog.close()


class TestRunningAgain:
    def test_a_second_start_changes_nothing(self, config: Config) -> None:
        first = start(config)
        try:
            for name in COMPONENTS:
                seed(first.db, name)
            before = versions(first.db), {n: stored(first.db, n) for n in COMPONENTS}
        finally:
            first.close()
        again = start(config)
        try:
            migrate_all(again.db, COMPONENTS.values())
            after = versions(again.db), {n: stored(again.db, n) for n in COMPONENTS}
        finally:
            again.close()
        assert after == before
        assert before[0] == {name: c.latest for name, c in COMPONENTS.items()}

    def test_migrating_to_an_older_version_than_the_store_is_at_changes_nothing(
        self, views_db: Database
    ) -> None:
        component = COMPONENTS["access_log"]
        migrate(views_db, component)
        assert migrate(views_db, component, upto=1) == component.latest
        assert version(views_db, "access_log") == component.latest

    def test_migrations_must_be_numbered_from_one_in_order(self) -> None:
        with pytest.raises(ValueError, match=r"numbered 1, 2, 3"):
            Component("x", (Migration(1, "a", ()), Migration(3, "b", ())))

    def test_a_failing_migration_leaves_the_store_at_the_version_before(
        self, views_db: Database
    ) -> None:
        broken = Component(
            "broken",
            (
                Migration(1, "a table", ("CREATE TABLE broken_one (id TEXT PRIMARY KEY)",)),
                Migration(
                    2,
                    "a column, then a mistake",
                    ("ALTER TABLE broken_one ADD COLUMN extra TEXT", "SELECT * FROM nowhere"),
                ),
            ),
        )
        migrate(views_db, broken, upto=1)
        with pytest.raises(Exception, match="nowhere"):
            migrate(views_db, broken)
        assert version(views_db, "broken") == 1
        assert _columns(views_db, "broken_one") == {"id"}


CHILD = """
import os, sys, time
from pathlib import Path
from services.config import Config
from services.bootstrap import CareLog, durable_tables
from projections.sql.table_migrations import migrate, migrate_all
from services.access.oidc.identities import IDENTITY_TABLE
from services.access.oidc.sessions import OIDC_SESSION_TABLE
from services.feeds.relay import TRACKING_TABLE

url, folder, how = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
go = folder / "go"
(folder / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.005)
carelog = CareLog(Config(database_url=url, checkpoint_dir=str(folder / "checkpoints"),
                         run_projections=False, group_commit_ms=0, secret_key="t"))
try:
    if how == "runner":
        migrate_all(carelog.db, durable_tables())
    else:
        carelog.prepare_schema()
    for component in (TRACKING_TABLE, IDENTITY_TABLE, OIDC_SESSION_TABLE):
        migrate(carelog.db, component)
finally:
    carelog.close()
"""


@pytest.mark.served
class TestTwoProcessesStartingAtOnce:
    @pytest.mark.parametrize("how", ["runner", "start-up"])
    def test_both_start_and_each_migration_is_applied_once(
        self, store: str, tmp_path: Path, config: Config, how: str
    ) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        children = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, store, str(tmp_path), how],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("ready-*"))) < 2:  # both have imported, and wait
            assert time.monotonic() < deadline, "the two processes did not start"
            assert all(child.poll() is None for child in children), "a process ended early"
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [child.communicate(timeout=120)[0].decode() for child in children]
        assert [child.returncode for child in children] == [0, 0], outputs

        carelog = CareLog(config)
        try:
            assert versions(carelog.db) == {n: c.latest for n, c in COMPONENTS.items()}
            for name in COMPONENTS:  # every table is there, empty
                assert stored(carelog.db, name) == []
        finally:
            carelog.close()


def _columns(db: Database, table: str) -> set[str]:
    with db.transaction() as cur:
        return columns(cur, db.dialect, table)
