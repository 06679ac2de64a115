"""Signed checkpoints: written outside the database, cheap to repeat, and impossible to forge
or edit without the verifier noticing."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.bootstrap import CareLog
from services.config import Config
from services.integrity.checkpoints import Checkpoint
from services.integrity.signing_key import key_id
from tests.conftest import Team, make_team
from tests.integration.tamper import RawLog, seed


def checkpoint_files(config: Config) -> list[Path]:
    return sorted(Path(config.checkpoint_dir).glob("checkpoint-*.json"))


def bad_checkpoint_details(carelog: CareLog, **kwargs: object) -> list[str]:
    result = carelog.integrity.verify(**kwargs)  # type: ignore[arg-type]
    assert not result.ok
    return [p.detail for p in result.problems if p.kind == "bad-checkpoint"]


class TestWritingCheckpoints:
    def test_a_checkpoint_signs_the_stored_chain_head_outside_the_database(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        seed(carelog, team, patients=2)
        checkpoint = carelog.integrity.checkpoint()
        assert checkpoint is not None
        data = json.loads(checkpoint_files(config)[0].read_text())
        with RawLog(config) as raw:
            position, head = raw.links()[-1]
        assert data["chains"]["events"] == {"position": position, "head": head.hex()}
        public = serialization.load_pem_public_key(
            (Path(config.checkpoint_dir) / "signing.pub").read_bytes()
        )
        signed = Checkpoint.from_json(data)
        public.verify(base64.b64decode(data["signature"]), signed.payload())  # type: ignore[union-attr]
        assert data["key_id"] == key_id(public)  # type: ignore[arg-type]

    def test_the_signing_key_is_created_private_in_the_users_config_folder_not_beside_the_data(
        self, team: Team, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
        carelog = CareLog(config)
        try:
            seed(carelog, make_team(carelog), patients=1)
            carelog.integrity.checkpoint()
        finally:
            carelog.close()
        key = tmp_path / "home-config" / "carelog" / "signing.key"
        assert os.stat(key).st_mode & 0o777 == 0o600
        assert os.stat(key.parent).st_mode & 0o777 == 0o700
        assert not (Path(config.checkpoint_folder).parent / "signing.key").exists()
        assert not list(Path(config.checkpoint_folder).glob("*.key"))

    def test_a_key_left_beside_the_data_by_an_older_carelog_is_moved_out_once(
        self, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
        old = Path(config.checkpoint_folder).parent / "signing.key"
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        old.write_bytes(pem)
        carelog = CareLog(config)
        try:
            seed(carelog, make_team(carelog), patients=1)
            checkpoint = carelog.integrity.checkpoint()
        finally:
            carelog.close()
        moved = tmp_path / "home-config" / "carelog" / "signing.key"
        assert moved.read_bytes() == pem
        assert not old.exists()
        assert checkpoint is not None
        assert checkpoint.key_id == key_id(
            serialization.load_pem_private_key(pem, None).public_key()  # type: ignore[arg-type]
        )

    def test_nothing_new_is_signed_when_nothing_was_written(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        seed(carelog, team, patients=1)
        first = carelog.integrity.checkpoint()
        again = carelog.integrity.checkpoint()
        assert first is not None
        assert again is not None
        assert again.seq == first.seq
        assert len(checkpoint_files(config)) == 1

    def test_each_checkpoint_follows_the_one_before(self, carelog: CareLog, team: Team) -> None:
        seed(carelog, team, patients=1)
        first = carelog.integrity.checkpoint()
        seed(carelog, team, patients=1, prefix="B")
        second = carelog.integrity.checkpoint()
        assert first is not None
        assert second is not None
        assert second.seq == first.seq + 1
        assert second.previous == first.digest()
        assert second.chains["events"].position > first.chains["events"].position
        assert carelog.integrity.verify().ok

    def test_an_empty_store_has_nothing_to_sign(self, carelog: CareLog) -> None:
        assert carelog.integrity.checkpoint() is None


class TestForgedCheckpoints:
    @pytest.fixture
    def signed(self, carelog: CareLog, team: Team, config: Config) -> Path:
        seed(carelog, team, patients=2)
        carelog.integrity.checkpoint()
        seed(carelog, team, patients=1, prefix="B")
        carelog.integrity.checkpoint()
        return checkpoint_files(config)[-1]

    def test_a_checkpoint_signed_with_another_key_is_rejected(
        self, carelog: CareLog, signed: Path
    ) -> None:
        data = json.loads(signed.read_text())
        forged = Checkpoint.from_json(data)
        other = Ed25519PrivateKey.generate()
        data["signature"] = forged.signed(other).signature  # claims the trusted key's id
        signed.write_text(json.dumps(data))
        assert any("signature does not match" in d for d in bad_checkpoint_details(carelog))

    def test_a_checkpoint_naming_another_key_is_rejected(
        self, carelog: CareLog, signed: Path
    ) -> None:
        other = Ed25519PrivateKey.generate()
        data = json.loads(signed.read_text())
        original = Checkpoint.from_json(data)
        forged = Checkpoint(
            original.seq,
            original.time,
            original.chains,
            original.previous,
            key_id(other.public_key()),
        ).signed(other)
        signed.write_text(json.dumps(forged.as_json()))
        details = bad_checkpoint_details(carelog)
        assert any(f"signed by key {key_id(other.public_key())}" in d for d in details)

    def test_an_edited_checkpoint_is_rejected(self, carelog: CareLog, signed: Path) -> None:
        data = json.loads(signed.read_text())
        data["chains"]["events"]["position"] -= 1
        signed.write_text(json.dumps(data))
        assert any("edited or forged" in d for d in bad_checkpoint_details(carelog))

    def test_a_checkpoint_removed_from_the_middle_is_noticed(
        self, carelog: CareLog, team: Team, config: Config, signed: Path
    ) -> None:
        seed(carelog, team, patients=1, prefix="C")
        carelog.integrity.checkpoint()
        checkpoint_files(config)[1].unlink()
        assert any("missing from the directory" in d for d in bad_checkpoint_details(carelog))

    def test_an_edited_old_checkpoint_does_not_hide_a_later_rewrite(
        self, carelog: CareLog, team: Team, config: Config, signed: Path
    ) -> None:
        first = checkpoint_files(config)[0]
        data = json.loads(first.read_text())
        data["time"] = "2020-01-01T00:00:00+00:00"
        first.write_text(json.dumps(data))
        with RawLog(config) as raw:
            target = raw.positions()[-3]
            raw.flip_state_byte(target)
            raw.rewrite_links()
        result = carelog.integrity.verify()
        assert [(p.chain, p.kind) for p in result.problems] == [
            ("events", "changed"),
            ("checkpoints", "bad-checkpoint"),
        ]
        assert result.problems[0].position == target
        assert result.problems[0].evidence == "checkpoint"
        assert first.name in result.problems[1].detail

    def test_resigning_everything_with_a_new_key_fails_against_the_pinned_key(
        self, carelog: CareLog, config: Config, signed: Path, tmp_path: Path
    ) -> None:
        directory = Path(config.checkpoint_dir)
        pinned = tmp_path / "auditor.pub"
        pinned.write_bytes((directory / "signing.pub").read_bytes())
        # Someone who controls the database and the checkpoint folder (not the key) rewrites
        # the log, makes a key of their own and re-signs every checkpoint with it.
        with RawLog(config) as raw:
            raw.flip_state_byte(raw.positions()[3])
            raw.rewrite_links()
            head_position, head = raw.links()[-1]
        attacker = Ed25519PrivateKey.generate()
        previous = None
        for path in checkpoint_files(config):
            old = Checkpoint.from_json(json.loads(path.read_text()))
            chains = {"events": type(old.chains["events"])(head_position, head.hex())}
            new = Checkpoint(
                old.seq, old.time, chains, previous, key_id(attacker.public_key())
            ).signed(attacker)
            path.write_text(json.dumps(new.as_json()))
            previous = new.digest()
        (directory / "signing.pub").write_bytes(
            attacker.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        details = bad_checkpoint_details(carelog, public_key=pinned)
        assert len(details) == len(checkpoint_files(config))
        assert all("not by the trusted key" in d for d in details)


class TestVerificationMark:
    def test_the_last_verified_position_is_recorded_for_readyz(
        self, carelog: CareLog, team: Team
    ) -> None:
        seed(carelog, team, patients=1)
        assert carelog.integrity.last_verified() is None
        carelog.integrity.verify()
        mark = carelog.integrity.last_verified()
        assert mark is not None
        assert mark["ok"] is True
        assert mark["verified_position"] == carelog.app.recorder.max_notification_id()

    def test_a_failed_verification_is_recorded_with_its_first_problem(
        self, carelog: CareLog, team: Team, config: Config
    ) -> None:
        seed(carelog, team, patients=1)
        with RawLog(config) as raw:
            raw.flip_state_byte(3)
        carelog.integrity.verify()
        mark = carelog.integrity.last_verified()
        assert mark is not None
        assert mark["ok"] is False
        assert mark["verified_position"] == 2
        assert mark["first_problem"]["position"] == 3

    def test_verify_new_checks_only_what_was_written_since_the_last_verification(
        self, carelog: CareLog, team: Team
    ) -> None:
        seed(carelog, team, patients=2)
        carelog.integrity.verify()
        before = carelog.app.recorder.max_notification_id()
        seed(carelog, team, patients=1, prefix="N")
        result = carelog.integrity.verify_new()
        assert result.ok
        assert result.chains["events"].start == before + 1
        written = carelog.app.recorder.max_notification_id() - before
        assert result.chains["events"].records == written

    def test_verify_new_walks_only_the_access_entries_written_since(
        self, carelog: CareLog, team: Team
    ) -> None:
        seed(carelog, team, patients=1)

        def read(n: int) -> None:
            for i in range(n):
                carelog.access_log.record(
                    actor_id=team.psychiatrist.id,
                    actor_role="psychiatrist",
                    patient_id=None,
                    what="plan",
                    request_id=f"r-{i}",
                    source="127.0.0.1",
                )

        read(5)
        carelog.integrity.verify()
        before = carelog.access_log.head()
        read(3)
        result = carelog.integrity.verify_new()
        assert result.ok
        assert result.chains["access"].start == before + 1
        assert result.chains["access"].records == 3
        assert result.chains["access"].head_position == before + 3
        again = carelog.integrity.verify_new()  # nothing new: nothing walked, still good
        assert again.ok
        assert again.chains["access"].records == 0
        assert again.chains["access"].head_position == before + 3
