"""Encryption at rest: with CARELOG_CIPHER_KEY set, the event store holds no clinical text.

Every test in this module runs against an encrypted event store (the ``config`` fixture is
overridden below), except where it builds an unencrypted CareLog to compare with.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eventsourcing.cryptography import AESCipher

from domain import commands as c
from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team
from tests.integration.tamper import RawLog
from tests.patient_writes import prescription, register

DRUG = "sertraline"
NOTE = "Discussed the quarrel with her sister Philippa; sleep is improving."
NAME = "Ottoline Marchbanks"


@pytest.fixture
def config(config: Config) -> Config:
    return config.with_(cipher_key=AESCipher.create_key(num_bytes=32), kek=None)  # this key alone


def write_clinical_history(carelog: CareLog, team: Team, notes: int = 3) -> str:
    ctx = CommandContext(team.psychiatrist)
    pid = register(carelog, ctx, "MRN-ENC-1", NAME, "1979-04-02")
    carelog.commands.execute(ctx, pid, prescription(DRUG))
    for _ in range(notes):
        carelog.commands.execute(
            ctx, pid, c.AddNote(kind="progress", modality="supportive", text=NOTE)
        )
    return pid


def stored_bytes(config: Config) -> bytes:
    """Everything the event store holds: its tables and, on SQLite, its files on disk."""
    with RawLog(config) as raw:
        prefix = f"{raw.schema}.carelog" if config.is_postgres else "stored"
        blobs = [
            bytes(r[0]) + r[1].encode()
            for table in ("events", "snapshots")
            for r in raw.run(f"SELECT state, topic FROM {prefix}_{table}")
        ]
    if not config.is_postgres:
        path = config.sqlite_path
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                blobs.append(file.read_bytes())
    return b"".join(blobs).lower()


def snapshots(config: Config) -> int:
    with RawLog(config) as raw:
        table = f"{raw.schema}.carelog_snapshots" if config.is_postgres else "stored_snapshots"
        return int(raw.run(f"SELECT COUNT(*) FROM {table}")[0][0])


@pytest.fixture
def plain(config: Config) -> Iterator[CareLog]:
    instance = CareLog(config.with_(cipher_key=None))
    yield instance
    instance.close()


class TestEncryptionAtRest:
    def test_the_event_store_holds_no_drug_names_note_text_or_patient_names(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        write_clinical_history(carelog, team, notes=55)  # enough for a snapshot too
        carelog.app.flush_snapshots()
        stored = stored_bytes(config)
        assert snapshots(config) >= 1
        for secret in (DRUG, NOTE, "philippa", NAME):
            assert secret.lower().encode() not in stored, secret

    def test_without_a_key_the_same_history_is_stored_in_clear(
        self, plain: CareLog, team: Team, config: Config
    ) -> None:
        write_clinical_history(plain, team)
        stored = stored_bytes(config)
        assert DRUG.encode() in stored
        assert b"philippa" in stored

    def test_an_encrypted_history_reads_back_whole(self, carelog: CareLog, team: Team) -> None:
        pid = write_clinical_history(carelog, team)
        record = carelog.app.get_record(pid)
        assert [o.drug["name"] for o in record.plan.orders.values()] == [DRUG]
        assert record.plan.patient.name == NAME

    def test_a_different_key_cannot_read_the_history(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        pid = write_clinical_history(carelog, team)
        other = CareLog(config.with_(cipher_key=AESCipher.create_key(num_bytes=32)))
        try:
            with pytest.raises(ValueError, match=r"(?i)decrypt|cipher|tag"):
                other.app.get_record(pid)
        finally:
            other.close()

    def test_an_encrypted_log_is_chained_and_verifies(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        write_clinical_history(carelog, team)
        assert carelog.integrity.checkpoint() is not None
        assert carelog.integrity.verify().ok
        with RawLog(config) as raw:
            raw.flip_state_byte(4, index=30)
        first = carelog.integrity.verify().first_problem
        assert first is not None
        assert (first.position, first.kind) == (4, "changed")
