"""Envelope encryption's key ring: KEK configuration, sealing and opening records, records
from before (the single store key), and the key table's ordered migrations."""

from __future__ import annotations

import base64
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.cryptography import AESCipher
from eventsourcing.utils import Environment

from domain.errors import RecordErasedError
from projections.sql.connection import connect
from projections.sql.table_migrations import VERSIONS
from services.keys.errors import KeyConfigError, KeyUnavailableError
from services.keys.kek import Kek, new_kek, parse_keks
from services.keys.keyring import MAGIC, KeyRing
from services.keys.table import KEY_TABLES, LEGACY_VERSIONS, migrate


def ring(tmp_path: Path, *entries: str, legacy: str | None = None) -> KeyRing:
    db = connect(f"sqlite:///{tmp_path / 'keys.db'}")
    keks = parse_keks(",".join(entries or (new_kek("k1"),)), "test")
    return KeyRing(db, keks, legacy_key=legacy)


class TestKekConfiguration:
    def test_the_first_entry_is_active_and_comments_and_blank_lines_are_ignored(self) -> None:
        a, b = new_kek("a"), new_kek("b")
        keks = parse_keks(f"# keys\n{a}\n\n{b}  # old\n", "file")
        assert [k.id for k in keks] == ["a", "b"]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("k1", "ID:BASE64"),
            ("k1:!!!", "not valid base64"),
            (f"k1:{base64.b64encode(b'short').decode()}", "is 5 bytes"),
            ("bad id:AAAA", "ID:BASE64"),
        ],
    )
    def test_a_malformed_entry_is_refused_naming_it(self, text: str, message: str) -> None:
        with pytest.raises(KeyConfigError, match=message):
            parse_keks(text, "CARELOG_KEK")

    def test_an_id_given_twice_is_refused(self) -> None:
        with pytest.raises(KeyConfigError, match="given twice"):
            parse_keks(f"{new_kek('a')},{new_kek('a')}", "CARELOG_KEK")


class TestSealingAndOpening:
    def test_a_record_opens_with_its_patients_key_and_holds_no_clear_text(
        self, tmp_path: Path
    ) -> None:
        keys = ring(tmp_path)
        sealed = keys.seal(uuid4(), b"sertraline 50 mg")
        assert sealed.startswith(MAGIC)
        assert b"sertraline" not in sealed
        assert keys.open(sealed, "record") == b"sertraline 50 mg"

    def test_a_record_moved_to_another_patients_key_does_not_open(self, tmp_path: Path) -> None:
        keys = ring(tmp_path)
        first, second = uuid4(), uuid4()
        keys.seal(second, b"x")
        sealed = keys.seal(first, b"sertraline")
        moved = MAGIC + second.bytes + sealed[len(MAGIC) + 16 :]
        with pytest.raises(KeyUnavailableError, match=f"patient {second}"):
            keys.open(moved, "record")

    def test_an_erased_patients_records_raise_the_tombstone(self, tmp_path: Path) -> None:
        from datetime import UTC, datetime

        keys = ring(tmp_path)
        pid = uuid4()
        sealed = keys.seal(pid, b"sertraline")
        keys.table.erase(str(pid), datetime.now(UTC), "cli:test", "asked to")
        keys.forget(str(pid))
        with pytest.raises(RecordErasedError, match=r"Record erased on .*: asked to"):
            keys.open(sealed, "record")
        with pytest.raises(RecordErasedError):
            keys.check_readable(pid)

    def test_records_under_the_old_single_key_open_through_the_legacy_data_key(
        self, tmp_path: Path
    ) -> None:
        legacy = AESCipher.create_key(num_bytes=32)
        old = AESCipher(Environment(env={"CIPHER_KEY": legacy})).encrypt(b"fluoxetine")
        kek = new_kek("k1")
        assert ring(tmp_path, kek, legacy=legacy).open(old, "old") == b"fluoxetine"
        # once imported, the old key itself is no longer needed
        assert ring(tmp_path, kek).open(old, "old") == b"fluoxetine"

    def test_a_wrong_kek_is_named(self, tmp_path: Path) -> None:
        pid = uuid4()
        sealed = ring(tmp_path, new_kek("k1")).seal(pid, b"x")
        wrong = ring(tmp_path, new_kek("k1"))
        assert wrong.wrong_keks() == ["k1"]
        with pytest.raises(KeyUnavailableError, match="'k1' as configured cannot unwrap"):
            wrong.open(sealed, "record")

    def test_the_dek_cache_is_bounded(self, tmp_path: Path) -> None:
        keys = ring(tmp_path)
        keys.cache_size = 3
        for _ in range(10):
            keys.seal(uuid4(), b"x")
        assert len(keys._cache) == 3


class TestKeyTableMigrations:
    def test_a_new_store_gets_every_migration_once_and_a_second_run_changes_nothing(
        self, tmp_path: Path
    ) -> None:
        db = connect(f"sqlite:///{tmp_path / 'k.db'}")
        assert migrate(db) == KEY_TABLES.latest
        assert migrate(db) == KEY_TABLES.latest
        rows = db.query(f"SELECT component, version FROM {VERSIONS}")
        assert rows == [{"component": "keys", "version": KEY_TABLES.latest}]

    def test_a_key_table_versioned_before_the_shared_runner_keeps_its_keys(
        self, tmp_path: Path
    ) -> None:
        kek = new_kek("k1")
        pid = uuid4()
        sealed = ring(tmp_path, kek).seal(pid, b"kept")
        db = connect(f"sqlite:///{tmp_path / 'keys.db'}")
        db.execute(f"DROP TABLE {VERSIONS}")  # as recorded before: in its own table
        db.execute(f"CREATE TABLE {LEGACY_VERSIONS} (version INTEGER PRIMARY KEY)")
        db.execute(f"INSERT INTO {LEGACY_VERSIONS} (version) VALUES (1)")
        db.close()

        assert ring(tmp_path, kek).open(sealed, "record") == b"kept"
        db = connect(f"sqlite:///{tmp_path / 'keys.db'}")
        assert db.query(f"SELECT version FROM {VERSIONS} WHERE component = 'keys'") == [
            {"version": KEY_TABLES.latest}
        ]

    def test_data_keys_survive_a_restart(self, tmp_path: Path) -> None:
        kek = new_kek("k1")
        pid = uuid4()
        sealed = ring(tmp_path, kek).seal(pid, b"kept")
        assert ring(tmp_path, kek).open(sealed, "record") == b"kept"


def test_kek_wrapping_is_bound_to_subject_and_kek_id() -> None:
    kek = Kek("k1", b"\x01" * 32)
    wrapped = kek.wrap("a", b"\x02" * 32)
    assert kek.unwrap("a", wrapped) == b"\x02" * 32
    with pytest.raises(InvalidTag):
        kek.unwrap("b", wrapped)
    with pytest.raises(InvalidTag):
        Kek("k2", b"\x01" * 32).unwrap("a", wrapped)


def test_a_wrong_active_kek_never_wraps_a_new_data_key(tmp_path: Path) -> None:
    ring(tmp_path, new_kek("k1")).seal(uuid4(), b"x")
    wrong = ring(tmp_path, new_kek("k1"))
    with pytest.raises(KeyUnavailableError, match="No data key can be made"):
        wrong.seal(uuid4(), b"new patient")
    assert len(wrong.table.keks()) == 1
    assert wrong.table.keks()[0]["data_keys"] == 1
