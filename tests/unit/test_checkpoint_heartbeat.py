"""The signed "still the newest" heartbeat: it vouches only for the checkpoint it names,
and only under the trusted key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.integrity.checkpoints import ChainHead, Checkpoint
from services.integrity.heartbeat import read_heartbeat, write_heartbeat
from services.integrity.signing_key import key_id


def checkpoint(key: Ed25519PrivateKey, seq: int = 3, store: str | None = "s1") -> Checkpoint:
    return Checkpoint(
        seq=seq,
        time=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        chains={"events": ChainHead(10 * seq, "ab" * 32)},
        previous=None,
        key_id=key_id(key.public_key()),
        store=store,
        interval=60.0,
    ).signed(key)


class TestHeartbeat:
    def test_it_vouches_for_the_checkpoint_it_names_under_the_trusted_key(
        self, tmp_path: Path
    ) -> None:
        key = Ed25519PrivateKey.generate()
        newest = checkpoint(key)
        write_heartbeat(tmp_path, newest, key)
        beat = read_heartbeat(tmp_path)
        assert beat is not None
        assert beat.vouches_for(newest, key.public_key())

    def test_it_does_not_vouch_for_an_older_checkpoint_left_newest(self, tmp_path: Path) -> None:
        key = Ed25519PrivateKey.generate()
        write_heartbeat(tmp_path, checkpoint(key, seq=3), key)
        beat = read_heartbeat(tmp_path)
        assert beat is not None
        assert not beat.vouches_for(checkpoint(key, seq=2), key.public_key())

    def test_another_key_or_an_edited_heartbeat_vouches_for_nothing(self, tmp_path: Path) -> None:
        key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        newest = checkpoint(key)
        write_heartbeat(tmp_path, newest, other)
        beat = read_heartbeat(tmp_path)
        assert beat is not None
        assert not beat.vouches_for(newest, key.public_key())
        write_heartbeat(tmp_path, newest, key)
        edited = read_heartbeat(tmp_path)
        assert edited is not None
        assert not replace(edited, time="2099-01-01T00:00:00+00:00").vouches_for(
            newest, key.public_key()
        )

    def test_a_legacy_checkpoint_gets_no_heartbeat(self, tmp_path: Path) -> None:
        key = Ed25519PrivateKey.generate()
        write_heartbeat(tmp_path, checkpoint(key, store=None), key)
        assert read_heartbeat(tmp_path) is None
