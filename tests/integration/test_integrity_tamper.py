"""Tampering with the stored log, on both stores: every edit is found, at the right position.

Each test seeds a log, signs a checkpoint over it, writes a few events after the checkpoint
(the window a checkpoint does not yet cover), edits the database directly as someone with
database access could, and runs the verifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from tests.integration.tamper import RawLog, first_problem, seed
from tests.patient_writes import registration


@dataclass
class Log:
    """A seeded, checkpointed store and raw access to it."""

    carelog: CareLog
    raw: RawLog
    positions: list[int]
    checkpointed: int  # the position the checkpoint vouches for


@pytest.fixture
def log(carelog: CareLog, team: Team, config: Config) -> Iterator[Log]:
    seed(carelog, team)
    checkpoint = carelog.integrity.checkpoint()
    assert checkpoint is not None
    ctx = CommandContext(team.psychiatrist)
    late = carelog.app.register_patient(
        ctx,
        registration("MRN-LATE", "Late Patient", "1990-01-01"),
    )
    carelog.app.write(
        late.patient_id,
        ctx,
        lambda record: record.add_note(
            ctx, c.AddNote(kind="progress", modality="supportive", text="After the checkpoint.")
        ),
    )
    with RawLog(config) as raw:
        yield Log(carelog, raw, raw.positions(), checkpoint.chains["events"].position)


def verify_first(log: Log) -> tuple[int, str, str]:
    first = first_problem(log.carelog)
    return first.position, first.kind, first.evidence


class TestUntouchedLog:
    def test_an_untouched_log_verifies(self, log: Log) -> None:
        result = log.carelog.integrity.verify()
        assert result.ok, result.problems
        assert result.chains["events"].records == len(log.positions)
        assert result.chains["events"].attested_position == log.checkpointed
        assert log.checkpointed < log.positions[-1]  # a few events are not yet attested

    def test_verifying_from_a_position_checks_only_the_rest(self, log: Log) -> None:
        result = log.carelog.integrity.verify(from_position=log.positions[20])
        assert result.ok
        assert result.chains["events"].records == len(log.positions) - 20


@pytest.mark.cipher  # and once more on an encrypted store: the chain covers the ciphertext
class TestTamperMatrix:
    def test_a_flipped_byte_in_an_events_state_is_found_where_it_is(self, log: Log) -> None:
        target = log.positions[6]
        log.raw.flip_state_byte(target, index=40)
        assert verify_first(log) == (target, "changed", "chain")

    def test_a_deleted_event_is_found_missing(self, log: Log) -> None:
        target = log.positions[9]
        log.raw.delete(target)
        assert verify_first(log) == (target, "missing", "chain")

    def test_two_swapped_events_are_found_reordered(self, log: Log) -> None:
        a, b = log.positions[4], log.positions[11]
        log.raw.swap(a, b)
        result = log.carelog.integrity.verify()
        assert [(p.position, p.kind) for p in result.problems] == [
            (a, "reordered"),
            (b, "reordered"),
        ]
        assert f"belongs at position {b}" in result.problems[0].detail

    def test_a_truncated_tail_is_found_where_it_was_cut(self, log: Log) -> None:
        cut = log.positions[20]
        log.raw.truncate_from(cut, links_too=False)
        assert verify_first(log) == (cut, "truncated", "chain")

    def test_a_tail_cut_with_its_links_is_found_through_the_checkpoint(self, log: Log) -> None:
        cut = log.positions[20]
        log.raw.truncate_from(cut, links_too=True)
        assert verify_first(log) == (cut, "truncated", "checkpoint")

    def test_an_inserted_forged_event_is_found(self, log: Log) -> None:
        victim = log.raw.row(log.positions[5])
        forged_at = log.positions[-1] + 1
        log.raw.insert(forged_at, victim[1], 99, victim[3], victim[4])
        assert verify_first(log) == (forged_at, "forged", "chain")

    def test_an_edited_chain_link_is_found_where_it_was_edited(self, log: Log) -> None:
        target = log.positions[13]
        log.raw.set_link(target, bytes(32))
        result = log.carelog.integrity.verify()
        assert [(p.position, p.kind) for p in result.problems] == [(target, "changed")]
        assert "link was edited" in result.problems[0].detail

    def test_a_consistently_rewritten_chain_is_found_through_the_checkpoint(self, log: Log) -> None:
        target = log.positions[7]
        log.raw.flip_state_byte(target, index=25)
        log.raw.rewrite_links()
        assert verify_first(log) == (target, "changed", "checkpoint")

    def test_a_deletion_hidden_by_a_rewritten_chain_is_found_missing(self, log: Log) -> None:
        target = log.positions[16]
        log.raw.delete(target)
        log.raw.rewrite_links()
        assert verify_first(log) == (target, "missing", "checkpoint")

    def test_an_edit_after_the_last_checkpoint_is_still_found_by_the_chain(self, log: Log) -> None:
        target = log.positions[-1]
        assert target > log.checkpointed
        log.raw.flip_state_byte(target)
        assert verify_first(log) == (target, "changed", "chain")

    def test_a_damaged_log_is_not_signed(self, log: Log) -> None:
        from services.integrity import IntegrityViolation

        log.raw.flip_state_byte(log.positions[-1])
        with pytest.raises(IntegrityViolation, match="does not verify"):
            log.carelog.integrity.checkpoint()


MUTATIONS = (
    "state",
    "topic",
    "version",
    "originator",
    "delete",
    "move",
    "link",
    "unlink",
    "truncate_state",
    "extend_state",
)


class TestAnySingleMutation:
    # One seeded store serves every example (each mutation is undone), and pytest makes a
    # new instance of this class per store: both health checks are about things we intend.
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        which=st.integers(min_value=0, max_value=10**6),
        mutation=st.sampled_from(MUTATIONS),
        salt=st.integers(min_value=0, max_value=10**6),
    )
    def test_any_single_mutation_of_a_stored_row_is_detected_where_it_is(
        self, log: Log, which: int, mutation: str, salt: int
    ) -> None:
        rows, links = log.raw.rows(), log.raw.links()
        which %= len(log.positions)
        target = log.positions[which]
        row = log.raw.row(target)
        try:
            if mutation == "state":
                log.raw.flip_state_byte(target, index=salt)
            elif mutation == "truncate_state":
                log.raw.set_state(target, row[4][: salt % len(row[4])])
            elif mutation == "extend_state":
                log.raw.set_state(target, row[4] + bytes([salt % 256]))
            elif mutation == "topic":
                log.raw.set_field(target, "topic", row[3] + "x")
            elif mutation == "version":
                log.raw.set_field(target, "originator_version", row[2] + 1000 + salt)
            elif mutation == "originator":
                log.raw.set_field(target, "originator_id", log.raw.stored_id(UUID(int=salt)))
            elif mutation == "delete":
                log.raw.delete(target)
            elif mutation == "move":
                log.raw.move(target, log.positions[-1] + 1 + salt % 7)
            elif mutation == "link":
                log.raw.set_link(target, bytes((b ^ (salt % 255 + 1)) for b in links[which][1]))
            else:  # unlink
                log.raw.delete_link(target)
            result = log.carelog.integrity.verify()
            assert not result.ok, f"{mutation} at {target} went undetected"
            assert result.first_problem is not None
            assert result.first_problem.position == target, result.problems
        finally:
            log.raw.restore(rows, links)
        assert log.carelog.integrity.verify().ok
