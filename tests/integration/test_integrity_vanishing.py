"""Checkpoints that cannot be made to vanish, and that belong to their store (issue 19,
findings 4 and 6), through the real ``carelog verify`` as an auditor runs it.

The attacker here controls the database and the checkpoint folder, not the signing key:
they rewrite an event, recompute the chain, and remove or replace the checkpoints that
would give them away.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.bootstrap import CareLog
from services.config import Config
from services.integrity.checkpoints import ChainHead, Checkpoint
from services.integrity.signing_key import key_id
from services.integrity.witness import CHECKPOINT_TOPIC
from tests.conftest import Team, make_team
from tests.integration.tamper import RawLog, seed
from tests.kafka_broker import Broker, read_topics

ROOT = Path(__file__).resolve().parents[2]
CARELOG = Path(sys.executable).parent / "carelog"
OVERDUE = {"CARELOG_CHECKPOINT_GRACE": "0"}
"""With the signer's interval 0 (on demand) and no grace, any record past the newest
checkpoint is overdue for one: no waiting in the tests."""


def carelog_cli(
    config: Config, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run the installed ``carelog`` command against a store, as an auditor would."""
    environment = {**os.environ, "CARELOG_DATABASE_URL": config.database_url, **(env or {})}
    for name in ("CARELOG_CHECKPOINT_DIR", "CARELOG_CIPHER_KEY", "CARELOG_WITNESS_FILE"):
        environment.pop(name, None)
    if config.checkpoint_dir:
        environment["CARELOG_CHECKPOINT_DIR"] = config.checkpoint_dir
    if config.cipher_key:
        environment["CARELOG_CIPHER_KEY"] = config.cipher_key
    run = subprocess.run(
        [str(CARELOG), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, run.stdout + run.stderr


@pytest.fixture
def config(config: Config) -> Config:
    return config.with_(checkpoint_interval=0.0)  # checkpoints on demand only


def signed_rounds(carelog: CareLog, team: Team, rounds: int) -> list[Checkpoint]:
    """Write some patients and sign a checkpoint after each round."""
    signed: list[Checkpoint] = []
    for n in range(rounds):
        seed(carelog, team, patients=2, notes=2, prefix=f"R{n}")
        checkpoint = carelog.integrity.checkpoint()
        assert checkpoint is not None
        signed.append(checkpoint)
    return signed


def rewrite_after(config: Config, position: int) -> int:
    """Edit the first event after ``position`` and recompute the whole chain over it."""
    with RawLog(config) as raw:
        target = next(p for p in raw.positions() if p > position)
        raw.flip_state_byte(target, index=5)
        raw.rewrite_links()
        return target


def remove_checkpoints(config: Config, from_seq: int, *, rows: bool) -> None:
    folder = Path(config.checkpoint_folder)
    for file in sorted(folder.glob("checkpoint-*.json"))[from_seq - 1 :]:
        file.unlink()
    if rows:
        with RawLog(config) as raw:
            raw.delete_checkpoint_rows(from_seq)


def rewritten_past_the_first(
    carelog: CareLog, team: Team, config: Config, rounds: int, *, rows: bool
) -> tuple[list[Checkpoint], int]:
    """``rounds`` signed rounds, then the first event after the first checkpoint rewritten
    (the chain recomputed) and every later checkpoint removed from the folder (and the
    database too, with ``rows``): the checkpoints signed and the rewritten position."""
    signed = signed_rounds(carelog, team, rounds)
    target = rewrite_after(config, signed[0].chains["events"].position)
    remove_checkpoints(config, 2, rows=rows)
    return signed, target


@pytest.mark.served
class TestDeletedCheckpoints:
    def test_a_rewrite_with_every_checkpoint_file_deleted_fails_against_the_pinned_key(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        signed_rounds(carelog, team, 2)
        target = rewrite_after(config, 0)
        remove_checkpoints(config, 1, rows=False)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned))
        assert code == 1, out
        assert f"FAILED at events position {target}: changed" in out
        assert "missing from the directory (the database still holds it)" in out

    def test_a_rewrite_with_every_checkpoint_deleted_from_folder_and_database_still_fails(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        signed_rounds(carelog, team, 2)
        rewrite_after(config, 0)
        remove_checkpoints(config, 1, rows=True)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=auditor)
        assert code == 1, out
        assert "unsigned-tail" in out
        assert "no signed checkpoint of this store covers them" in out

    def test_deleting_the_newest_checkpoint_files_is_caught_by_their_database_copies(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        _, target = rewritten_past_the_first(carelog, team, config, 3, rows=False)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned))
        assert code == 1, out
        assert f"FAILED at events position {target}: changed" in out
        assert "checkpoint 2: missing from the directory" in out

    def test_deleting_the_newest_checkpoints_everywhere_leaves_an_unsigned_tail(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        (first, _, _), _ = rewritten_past_the_first(carelog, team, config, 3, rows=True)
        code, out = carelog_cli(
            config, "verify", "--public-key", str(pinned), env={**OVERDUE, **auditor}
        )
        assert code == 1, out
        after = first.chains["events"].position + 1
        assert f"FAILED at events position {after}: unsigned-tail" in out

    def test_on_the_signers_machine_its_own_record_names_the_removed_checkpoints(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        (_, _, third), target = rewritten_past_the_first(carelog, team, config, 3, rows=True)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned))
        assert code == 1, out
        assert f"FAILED at events position {target}: changed" in out
        assert "checkpoint 3: missing from the directory and the database" in out
        assert "(the signer's own record holds it)" in out
        code, out = carelog_cli(config, "checkpoint")  # and it signs nothing over the rewrite
        assert code == 1, out
        assert f"Checkpoint {third.seq}, signed here, is gone" in out

    def test_an_older_checkpoint_copied_over_the_newest_is_out_of_sequence(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        first, second = signed_rounds(carelog, team, 2)
        assert first.path is not None
        assert second.path is not None
        rewrite_after(config, first.chains["events"].position)
        second.path.write_bytes(first.path.read_bytes())
        with RawLog(config) as raw:
            raw.delete_checkpoint_rows(2)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=auditor)
        assert code == 1, out
        assert f"{second.path.name}: holds checkpoint 1, not 2" in out

    def test_a_checkpoint_whose_database_copy_was_deleted_fails(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        signed_rounds(carelog, team, 2)
        with RawLog(config) as raw:
            raw.delete_checkpoint_rows(2)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned))
        assert code == 1, out
        assert "not recorded in the database" in out

    def test_an_untouched_store_with_its_checkpoints_verifies_against_the_pinned_key(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        signed_rounds(carelog, team, 2)
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=OVERDUE)
        assert code == 0, out
        assert "2 checkpoint(s), pinned key" in out


@pytest.mark.served
class TestUnsignedTail:
    @pytest.fixture
    def tail(self, carelog: CareLog, team: Team) -> None:
        signed_rounds(carelog, team, 1)
        seed(carelog, team, patients=1, prefix="TAIL")  # written after the last checkpoint

    def test_records_past_the_interval_and_grace_fail_against_the_pinned_key(
        self, tail: None, config: Config, pinned: Path
    ) -> None:
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=OVERDUE)
        assert code == 1, out
        assert "unsigned-tail" in out
        assert "--allow-unsigned-tail" in out

    def test_the_operator_can_accept_the_tail_by_name(
        self, tail: None, config: Config, pinned: Path
    ) -> None:
        code, out = carelog_cli(
            config,
            "verify",
            "--public-key",
            str(pinned),
            "--allow-unsigned-tail",
            env=OVERDUE,
        )
        assert code == 0, out
        assert "allowed by --allow-unsigned-tail" in out

    def test_records_within_the_grace_are_only_noted(
        self, tail: None, config: Config, pinned: Path
    ) -> None:
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned))
        assert code == 0, out
        assert "not yet covered by a signed checkpoint" in out


@pytest.mark.served
class TestQuietSpells:
    def test_a_write_after_a_quiet_spell_is_not_taken_for_an_overdue_checkpoint(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path, auditor: dict[str, str]
    ) -> None:
        (checkpoint,) = signed_rounds(carelog, team, 1)
        old = backdate(carelog, checkpoint, hours=1)  # signed an hour ago; quiet since
        assert carelog.integrity.checkpoint() == old  # nothing moved: "still the newest"
        seed(carelog, team, patients=1, prefix="AFTER")  # the first write after the spell
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=auditor)
        assert code == 0, out
        (Path(config.checkpoint_folder) / "heartbeat.json").unlink()
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=auditor)
        assert code == 1, out
        assert "unsigned-tail" in out


def backdate(carelog: CareLog, checkpoint: Checkpoint, hours: float) -> Checkpoint:
    """Re-sign a checkpoint (file, database copy, signer's record) as if signed earlier."""
    from datetime import timedelta

    from services.integrity.witness import SignerRecord

    private = carelog.integrity.key.private_key()
    assert private is not None
    earlier = (datetime.fromisoformat(checkpoint.time) - timedelta(hours=hours)).isoformat()
    old = Checkpoint(
        checkpoint.seq,
        earlier,
        checkpoint.chains,
        checkpoint.previous,
        checkpoint.key_id,
        store=checkpoint.store,
        interval=checkpoint.interval,
    ).signed(private)
    carelog.integrity.directory.write(old)
    carelog.app.recorder.insert_checkpoint(old.seq, old.body())  # type: ignore[attr-defined]
    assert old.store is not None
    SignerRecord(carelog.integrity.key.path.parent, old.store).write(old)
    return old


@pytest.mark.served
class TestUnpinned:
    def test_without_a_pinned_key_the_result_says_unpinned_and_strict_fails(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        signed_rounds(carelog, team, 1)
        code, out = carelog_cli(config, "verify")
        assert code == 0, out
        assert "UNPINNED" in out
        assert "pass --public-key FILE" in out
        code, out = carelog_cli(config, "verify", "--strict")
        assert code == 1, out
        assert ": unpinned:" in out
        code, out = carelog_cli(config, "verify", "--strict", "--public-key", str(pinned))
        assert code == 0, out

    def test_a_signing_pub_planted_in_the_checkpoint_folder_is_not_trusted(
        self, carelog: CareLog, team: Team, config: Config, tmp_path: Path
    ) -> None:
        signed_rounds(carelog, team, 2)
        # The attacker rewrites the log, re-signs every checkpoint (files and database
        # copies) with a key of their own, and leaves its public half in the folder.
        rewrite_after(config, 0)
        with RawLog(config) as raw:
            position, head = raw.links()[-1]
            raw.delete_checkpoint_rows(1)
        attacker = Ed25519PrivateKey.generate()
        folder = Path(config.checkpoint_folder)
        previous = None
        for path in sorted(folder.glob("checkpoint-*.json")):
            old = Checkpoint.from_json(json.loads(path.read_text()))
            new = Checkpoint(
                old.seq,
                old.time,
                {"events": ChainHead(position, head.hex()), **_others(old)},
                previous,
                key_id(attacker.public_key()),
                store=old.store,
                interval=old.interval,
            ).signed(attacker)
            path.write_text(json.dumps(new.as_json()))
            previous = new.digest()
        (folder / "signing.pub").write_bytes(
            attacker.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        # An auditor's machine, without the server's signing key.
        elsewhere = {"XDG_CONFIG_HOME": str(tmp_path / "another-machine")}
        code, out = carelog_cli(config, "verify", "--json", env=elsewhere)
        result = json.loads(out)
        assert result["key_id"] != key_id(attacker.public_key())
        assert result["pinned"] is False
        assert any("no key at all" in w for w in result["warnings"])
        code, out = carelog_cli(config, "verify", "--strict", env=elsewhere)
        assert code == 1, out
        # On the server, its own key rejects the attacker's signatures.
        code, out = carelog_cli(config, "verify")
        assert code == 1, out
        assert "not by the trusted key" in out


def _others(checkpoint: Checkpoint) -> dict[str, ChainHead]:
    return {name: head for name, head in checkpoint.chains.items() if name != "events"}


def write_legacy_checkpoint(carelog: CareLog, config: Config) -> Checkpoint:
    """A checkpoint of the log as it stands, as CareLog wrote them before store ids (format
    1): signed by the store's key and written to its checkpoint folder."""
    private = carelog.integrity.key.private_key()
    assert private is not None
    with RawLog(config) as raw:
        position, head = raw.links()[-1]
    legacy = Checkpoint(
        seq=1,
        time=datetime.now(UTC).isoformat(),
        chains={"events": ChainHead(position, head.hex())},
        previous=None,
        key_id=key_id(private.public_key()),
    ).signed(private)
    carelog.integrity.directory.write(legacy)
    return legacy


@pytest.mark.served
class TestLegacyCheckpoints:
    def test_an_old_format_checkpoint_still_verifies_and_the_sequence_continues_from_it(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        seed(carelog, team, patients=2)
        legacy = write_legacy_checkpoint(carelog, config)
        seed(carelog, team, patients=1, prefix="NEW")
        following = carelog.integrity.checkpoint()
        assert following is not None
        assert (following.seq, following.previous) == (2, legacy.digest())
        assert following.store is not None
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), "--json")
        result = json.loads(out)
        assert code == 0, out
        assert result["legacy_checkpoints"] == 1
        assert result["checkpoints"] == 2
        assert any("legacy checkpoint" in w for w in result["warnings"])


@pytest.mark.served
class TestStoresFromBeforeStoreIds:
    def test_an_old_store_gets_its_id_when_opened_and_its_old_checkpoints_still_verify(
        self, carelog: CareLog, team: Team, config: Config, pinned: Path
    ) -> None:
        seed(carelog, team, patients=2)
        write_legacy_checkpoint(carelog, config)
        with RawLog(config) as raw:
            carelog.close()
            raw.run(f"DROP TABLE {raw.events}_store")  # as before store ids
            raw.run(f"DROP TABLE {raw.checkpoints}")
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), "--json")
        result = json.loads(out)
        assert code == 0, out
        assert result["store"]
        assert (result["checkpoints"], result["legacy_checkpoints"]) == (1, 1)


@pytest.fixture
def two_stores(
    store: str, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Config, Config, Path]]:
    """Two stores opened from one working directory with the default checkpoint folders
    (a second demo, a test copy beside the real one)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    schema = None
    if config.is_postgres:
        base = store.split("?", 1)[0]
        schema = f"t2_{os.urandom(5).hex()}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        urls = (store, f"{base}?schema={schema}")
    else:
        urls = ("sqlite:///var/carelog.db", "sqlite:///var/demo.db")
    first, second = (config.with_(database_url=url, checkpoint_dir=None) for url in urls)
    yield first, second, work
    if schema is not None:
        with psycopg.connect(store.split("?", 1)[0], autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _signed_store(config: Config, prefix: str) -> Any:
    instance = CareLog(config)
    try:
        seed(instance, make_team(instance), patients=2, prefix=prefix)
        checkpoint = instance.integrity.checkpoint()
        assert checkpoint is not None
        return checkpoint
    finally:
        instance.close()


def _first_stores_checkpoint_in_the_seconds_folder(
    two_stores: tuple[Config, Config, Path],
) -> tuple[Any, Path]:
    """The first store signs a checkpoint; the second, written to, finds a copy of it in
    its own default folder. The first store's checkpoint, and that folder."""
    first, second, work = two_stores
    one = _signed_store(first, "A")
    instance = CareLog(second)
    try:
        seed(instance, make_team(instance), patients=1, prefix="B")
    finally:
        instance.close()
    assert one.path is not None
    folder = (work / second.checkpoint_folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / one.path.name).write_bytes(one.path.read_bytes())
    return one, folder


class TestCheckpointsBelongToTheirStore:
    @pytest.mark.served
    def test_a_second_store_from_the_same_working_directory_verifies_clean(
        self, two_stores: tuple[Config, Config, Path]
    ) -> None:
        first, second, work = two_stores
        one = _signed_store(first, "A")
        two = _signed_store(second, "B")
        assert first.checkpoint_folder != second.checkpoint_folder
        assert one.store != two.store
        for config in (first, second):
            code, out = carelog_cli(config, "verify", cwd=work)
            assert code == 0, out
            assert "rewritten" not in out
            assert "another store" not in out

    @pytest.mark.served
    def test_another_stores_checkpoint_is_reported_as_such_never_as_tampering(
        self, two_stores: tuple[Config, Config, Path]
    ) -> None:
        _, second, work = two_stores
        one, folder = _first_stores_checkpoint_in_the_seconds_folder(two_stores)
        shared = second.with_(checkpoint_dir=str(folder))  # a folder set by the operator
        code, out = carelog_cli(shared, "verify", cwd=work)
        assert code == 0, out
        assert f"checkpoints of another store ({one.store}" in out
        assert "rewritten" not in out
        code, out = carelog_cli(shared, "checkpoint", cwd=work)
        assert code == 1, out
        assert "holds checkpoints of another store" in out

    @pytest.mark.served
    def test_in_the_stores_own_default_folder_it_is_a_changed_store_id(
        self, two_stores: tuple[Config, Config, Path]
    ) -> None:
        """No other store writes to a store's own default folder: a checkpoint there
        signed by the trusted key for another store id means the id was rewritten
        (red-team F2; tests/integration/test_integrity_store_id.py)."""
        _, second, work = two_stores
        _first_stores_checkpoint_in_the_seconds_folder(two_stores)
        code, out = carelog_cli(second, "verify", cwd=work)
        assert code == 1, out
        assert "store id changed" in out

    def test_the_default_folder_sits_beside_a_sqlite_store(self, tmp_path: Path) -> None:
        config = Config(database_url=f"sqlite:///{tmp_path / 'clinic.db'}")
        assert config.checkpoint_folder == tmp_path / "clinic.db.checkpoints"
        other = Config(database_url="postgresql://u@db.example:5433/care?schema=north")
        assert other.checkpoint_folder == Path("var/pg-db.example-5433-care-north.checkpoints")


@pytest.mark.served
class TestWitnessFile:
    def test_the_witness_file_keeps_what_was_removed_from_folder_and_database(
        self,
        carelog: CareLog,
        team: Team,
        config: Config,
        pinned: Path,
        tmp_path: Path,
        auditor: dict[str, str],
    ) -> None:
        first, _ = signed_rounds(carelog, team, 2)
        witness = tmp_path / "auditor" / "carelog.witness"
        args = ("verify", "--public-key", str(pinned), "--witness", str(witness))
        code, out = carelog_cli(config, *args, "--update-witness")
        assert code == 0, out
        assert len(witness.read_text().splitlines()) == 2
        target = rewrite_after(config, first.chains["events"].position)
        remove_checkpoints(config, 2, rows=True)
        # On the auditor's machine, within the grace: only the witness knows.
        code, out = carelog_cli(config, *args, env=auditor)
        assert code == 1, out
        assert f"FAILED at events position {target}: changed" in out
        assert "the witness file holds it" in out
        code, out = carelog_cli(config, "verify", "--public-key", str(pinned), env=auditor)
        assert code == 0, out  # without the witness, the window the grace leaves open

    def test_checkpoints_are_appended_to_the_configured_witness_as_they_are_signed(
        self, config: Config, tmp_path: Path, auditor: dict[str, str]
    ) -> None:
        witness = tmp_path / "mounted" / "carelog.witness"
        instance = CareLog(config.with_(witness_file=str(witness)))
        try:
            signed = signed_rounds(instance, make_team(instance), 2)
        finally:
            instance.close()
        lines = [json.loads(line) for line in witness.read_text().splitlines()]
        assert [(line["seq"], line["store"]) for line in lines] == [
            (c.seq, c.store) for c in signed
        ]
        remove_checkpoints(config, 1, rows=True)
        code, out = carelog_cli(config, "verify", "--witness", str(witness), env=auditor)
        assert code == 1, out
        assert "missing from the directory and the database (the witness file holds it)" in out

    def test_a_missing_witness_file_is_an_error_unless_it_is_being_started(
        self, carelog: CareLog, team: Team, config: Config, tmp_path: Path
    ) -> None:
        signed_rounds(carelog, team, 1)
        witness = tmp_path / "nowhere.witness"
        code, out = carelog_cli(config, "verify", "--witness", str(witness))
        assert code == 1, out
        assert "does not exist" in out


@pytest.mark.kafka
@pytest.mark.served
class TestKafkaWitness:
    def test_each_checkpoint_is_published_and_the_topic_is_a_witness(
        self, config: Config, kafka_broker: Broker, tmp_path: Path, auditor: dict[str, str]
    ) -> None:
        instance = CareLog(config.with_(kafka_bootstrap=kafka_broker.bootstrap))
        try:
            first, second = signed_rounds(instance, make_team(instance), 2)
        finally:
            instance.close()
        records = read_topics(
            kafka_broker.bootstrap, [CHECKPOINT_TOPIC], until=lambda rs: len(rs) >= 2
        )
        assert [(r.key, r.message["seq"]) for r in records] == [
            (str(c.store), c.seq) for c in (first, second)
        ]
        assert records[1].message["previous"] == first.digest()
        # What a consumer of the topic keeps is a witness file.
        witness = tmp_path / "from-kafka.witness"
        witness.write_text("".join(json.dumps(r.message) + "\n" for r in records))
        target = rewrite_after(config, first.chains["events"].position)
        remove_checkpoints(config, 2, rows=True)
        code, out = carelog_cli(config, "verify", "--witness", str(witness), env=auditor)
        assert code == 1, out
        assert f"FAILED at events position {target}: changed" in out
        assert "the witness file holds it" in out
