"""The access log's chain, on both stores: an edited, deleted, forged or cut entry is found.

The access log is append-only by triggers; these tests drop the triggers first, as someone
who controls the database can.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from tests.integration.tamper import RawAccessLog, seed


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
    raw = RawAccessLog(config)
    yield Access(carelog, raw, raw.positions(), checkpoint.chains["access"].position)
    raw.close()


def first(access: Access) -> tuple[int, str, str]:
    result = access.carelog.integrity.verify()
    assert not result.ok, "tampering went undetected"
    problem = result.first_problem
    assert problem is not None
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


class TestUpgradingAnUnchainedAccessLog:
    def test_entries_written_before_chaining_are_sealed_once_and_then_chained(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        from services.access_log import AccessLog

        read_charts(carelog, team, 5)
        raw = RawAccessLog(config)
        try:  # the access log as it was before it had a hash column
            raw.run(f"ALTER TABLE {raw.table} DROP COLUMN hash")
        finally:
            raw.close()
        AccessLog(carelog.db)  # what the next start of CareLog does
        read_charts(carelog, team, 2)
        result = carelog.integrity.verify()
        assert result.ok, result.problems
        assert result.chains["access"].records == 7
        with pytest.raises(Exception, match="append-only"):  # and append-only again
            carelog.db.execute("DELETE FROM access_log")
