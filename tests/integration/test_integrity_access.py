"""The access log's chain, on both stores: an edited, deleted, forged or cut entry is found.

The access log is append-only by triggers; these tests drop the triggers first, as someone
who controls the database can.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.bootstrap import CareLog
from services.config import Config
from services.integrity.access_chain import ACCESS_FIELDS
from tests.conftest import Team
from tests.integration.tamper import RawAccessLog, first_problem, seed


def read_charts(carelog: CareLog, team: Team, entries: int) -> None:
    for n in range(entries):
        carelog.access_log.record(
            actor_id=team.psychiatrist.id,
            actor_role="psychiatrist",
            patient_id=f"patient-{n % 3}",
            what="plan",
            request_id=f"req-{n}",
            source="127.0.0.1",
            details={"n": n} if n % 2 else None,
        )


@dataclass
class Access:
    carelog: CareLog
    raw: RawAccessLog
    positions: list[int]
    checkpointed: int


@pytest.fixture
def access(carelog: CareLog, team: Team, config: Config) -> Iterator[Access]:
    seed(carelog, team, patients=1)
    read_charts(carelog, team, 20)
    checkpoint = carelog.integrity.checkpoint()
    assert checkpoint is not None
    read_charts(carelog, team, 3)
    with RawAccessLog(config) as raw:
        yield Access(carelog, raw, raw.positions(), checkpoint.chains["access"].position)


def first(access: Access) -> tuple[int, str, str]:
    problem = first_problem(access.carelog)
    assert problem.chain == "access"
    return problem.position, problem.kind, problem.evidence


class TestAccessLogChain:
    def test_an_untouched_access_log_verifies(self, access: Access) -> None:
        result = access.carelog.integrity.verify()
        assert result.ok, result.problems
        assert result.chains["access"].records == len(access.positions)
        assert result.chains["access"].attested_position == access.checkpointed

    def test_an_edited_entry_is_found_where_it_is(self, access: Access) -> None:
        target = access.positions[4]
        access.raw.set_field(target, "actor_id", "someone-else")
        assert first(access) == (target, "changed", "chain")

    def test_a_deleted_entry_is_found_missing_through_the_checkpoint(self, access: Access) -> None:
        target = access.positions[6]
        access.raw.delete(target)
        assert first(access) == (target, "missing", "checkpoint")

    def test_a_deletion_after_the_last_checkpoint_is_still_detected(self, access: Access) -> None:
        target = access.positions[-2]
        assert target > access.checkpointed
        access.raw.delete(target)
        result = access.carelog.integrity.verify()
        assert result.first_problem is not None
        assert result.first_problem.position == access.positions[-1]
        assert "deleted" in result.first_problem.detail

    def test_a_forged_entry_is_found(self, access: Access) -> None:
        forged_at = access.positions[-1] + 1
        access.raw.insert_forged(forged_at)
        assert first(access) == (forged_at, "forged", "chain")

    def test_a_cut_tail_is_found_through_the_checkpoint(self, access: Access) -> None:
        cut = access.positions[15]
        access.raw.truncate_from(cut)
        assert first(access) == (cut, "truncated", "checkpoint")

    def test_a_consistently_rehashed_access_log_is_found_through_the_checkpoint(
        self, access: Access
    ) -> None:
        target = access.positions[3]
        access.raw.set_field(target, "what", "nothing")
        access.raw.rewrite_hashes()
        assert first(access) == (target, "changed", "checkpoint")


@pytest.mark.fresh_store  # a migration from version 1
class TestUpgradingAnUnchainedAccessLog:
    def test_entries_written_before_chaining_are_sealed_once_and_then_chained(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        from services.access.access_log import AccessLog

        read_charts(carelog, team, 5)
        # the access log as it was before it had a hash column (at version 1)
        with RawAccessLog(config) as raw:
            raw.run(f"ALTER TABLE {raw.table} DROP COLUMN hash")
            versions = raw.table.replace("access_log", "schema_versions")
            raw.run(f"UPDATE {versions} SET version = 1 WHERE component = 'access_log'")
        AccessLog(carelog.db)  # what the next start of CareLog does
        read_charts(carelog, team, 2)
        result = carelog.integrity.verify()
        assert result.ok, result.problems
        assert result.chains["access"].records == 7
        with pytest.raises(Exception, match="append-only"):  # and append-only again
            carelog.db.execute("DELETE FROM access_log")


COLUMNS = ("position", *ACCESS_FIELDS, "hash")
NUMBERS = {"allowed", "flagged"}
NULLABLE = ("actor_id", "actor_role", "patient_id", "reason", "details")
MUTATIONS = ("edit", "blank", "null", "hash", "unhash", "delete", "move")


def snapshot(raw: RawAccessLog) -> list[tuple[Any, ...]]:
    rows = raw.run(f"SELECT {', '.join(COLUMNS)} FROM {raw.table} ORDER BY position")
    return [tuple(row) for row in rows]


def restore(raw: RawAccessLog, rows: list[tuple[Any, ...]]) -> None:
    raw.run(f"DELETE FROM {raw.table}")
    marks = ", ".join("?" * len(COLUMNS))
    for row in rows:
        raw.run(f"INSERT INTO {raw.table} ({', '.join(COLUMNS)}) VALUES ({marks})", row)


def changed(column: str, value: Any, salt: int) -> Any:
    if column in NUMBERS:
        return int(value) + 1 + salt % 5
    return f"{value or ''}{'x' * (1 + salt % 3)}"


class TestAnySingleMutationOfTheAccessLog:
    def test_an_edit_to_any_column_of_the_table_is_detected(self, access: Access) -> None:
        raw = access.raw
        rows = snapshot(raw)
        columns = [c[0] for c in raw.conn.execute(f"SELECT * FROM {raw.table} LIMIT 1").description]
        target = access.positions[5]
        row = dict(zip(COLUMNS, rows[5], strict=True))
        for column in set(columns) - {"position", "hash"}:  # a column added later, too
            try:
                raw.set_field(target, column, changed(column, row.get(column), 0))
                result = access.carelog.integrity.verify()
                assert result.first_problem is not None, f"an edited {column} went undetected"
                assert result.first_problem.position == target, (column, result.problems)
            finally:
                restore(raw, rows)
        assert access.carelog.integrity.verify().ok

    # As for the event log (test_integrity_tamper.py): one seeded store serves every
    # example, each mutation undone; the health checks are about things we intend.
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        which=st.integers(min_value=0, max_value=10**6),
        column=st.sampled_from(ACCESS_FIELDS),
        mutation=st.sampled_from(MUTATIONS),
        salt=st.integers(min_value=0, max_value=10**6),
    )
    def test_any_single_mutation_of_a_stored_entry_is_detected_where_it_is(
        self, access: Access, which: int, column: str, mutation: str, salt: int
    ) -> None:
        raw, positions = access.raw, access.positions
        rows = snapshot(raw)
        if mutation == "delete":
            # Not the newest entry: deleting it whole before a checkpoint covers it is the
            # window README ("Audit review") states; the chain has nothing after it to break.
            which %= len(positions) - 1
        else:
            which %= len(positions)
        target = positions[which]
        row = dict(zip(COLUMNS, rows[which], strict=True))
        try:
            if mutation == "edit":
                raw.set_field(target, column, changed(column, row[column], salt))
            elif mutation == "blank":
                text = next(c for c in (column, "what") if c not in NUMBERS)
                raw.set_field(target, text, "" if row[text] != "" else "x")
            elif mutation == "null":
                nullable = NULLABLE[salt % len(NULLABLE)]
                raw.set_field(target, nullable, None if row[nullable] is not None else "")
            elif mutation == "hash":
                digest = bytes(row["hash"])
                raw.set_field(target, "hash", bytes(b ^ (salt % 255 + 1) for b in digest))
            elif mutation == "unhash":
                raw.set_field(target, "hash", None)
            elif mutation == "delete":
                raw.delete(target)
            else:  # move, with its hash, past the end
                raw.set_field(target, "position", positions[-1] + 1 + salt % 7)
            expected = target
            if mutation in ("delete", "move") and target > access.checkpointed:
                # Its hash went with it and no checkpoint witnessed it: the first entry
                # that no longer chains is the next one stored.
                expected = min(p for p in raw.positions() if p > target)
            result = access.carelog.integrity.verify()
            assert not result.ok, f"{mutation} of {column} at {target} went undetected"
            assert result.first_problem is not None
            assert result.first_problem.chain == "access", result.problems
            assert result.first_problem.position == expected, result.problems
        finally:
            restore(raw, rows)
        assert access.carelog.integrity.verify().ok
