"""Envelope encryption as an operator runs it, through the ``carelog`` CLI as a subprocess:
KEK rotation without touching an event, retiring an old KEK only once nothing needs it, a
wrong or missing KEK named in a clear error, stores encrypted with the old single key,
retention and erasure (crypto-shredding) with ``carelog verify`` passing throughout."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.cryptography import AESCipher

from domain.command_context import CommandContext
from services.bootstrap import CareLog
from services.config import Config
from services.keys.erasure import past_retention
from services.keys.kek import new_kek
from tests.conftest import Team, make_team
from tests.integration.tamper import RawLog
from tests.keys_support import cli, disk_bytes, fresh_store, with_kek
from tests.patient_writes import prescription, register

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not

DRUG = "sertraline"
NAME = "Ottoline Marchbanks"


@pytest.fixture
def config(config: Config, tmp_path: Path) -> Config:
    return with_kek(config.with_(cipher_key=None), tmp_path)


def write_patient(carelog: CareLog, team: Team, mrn: str, name: str = NAME) -> str:
    ctx = CommandContext(team.psychiatrist)
    pid = register(carelog, ctx, mrn, name, "1979-04-02")
    carelog.commands.execute(ctx, pid, prescription(DRUG))
    return pid


def stored_events(config: Config) -> list[tuple[str, int, bytes]]:
    with RawLog(config) as raw:
        return [(str(r[1]), int(r[2]), bytes(r[4])) for r in raw.rows()]


def status(config: Config) -> dict[str, dict[str, object]]:
    result = cli(config, "keys", "status", "--json")
    return {k["kek_id"]: k for k in json.loads(result.stdout)["keks"]}


@pytest.fixture
def written(config: Config) -> tuple[str, str]:
    carelog = CareLog(config)
    try:
        team = make_team(carelog)
        first = write_patient(carelog, team, "MRN-K1")
        second = write_patient(carelog, team, "MRN-K2", "Bartholomew Quince")
    finally:
        carelog.close()
    assert cli(config, "checkpoint").returncode == 0
    return first, second


def only_kek(config: Config, kek_id: str) -> None:
    """The configured KEK file holding one new key, ``kek_id``, and nothing else."""
    Path(str(config.kek_file)).write_text(new_kek(kek_id) + "\n")


def add_kek_first(config: Config, kek_id: str) -> None:
    file = Path(str(config.kek_file))
    file.write_text(new_kek(kek_id) + "\n" + file.read_text())


def refusal(config: Config, *command: str) -> str:
    """Run a CLI command that must be refused: exit code 2 and a message, never a
    traceback. Returns the message."""
    result = cli(config, *command)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    return result.stderr


def export_refused(config: Config, kek: str, pid: str) -> str:
    """Export the patient with only ``kek`` configured: refused (see ``refusal``)."""
    only_kek(config, kek)
    return refusal(config, "export", "fhir", pid)


class TestRotation:
    def test_rotation_rewraps_every_data_key_and_leaves_the_events_byte_for_byte(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        before = stored_events(config)
        assert cli(config, "verify").returncode == 0
        add_kek_first(config, "k2")
        rotated = cli(config, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        assert json.loads(rotated.stdout)["rewrapped"] == 2
        assert stored_events(config) == before
        assert cli(config, "verify").returncode == 0
        keks = status(config)
        assert keks["k2"]["data_keys"] == 2
        assert keks["k2"]["active"]
        assert keks["k1"]["data_keys"] == 0
        shown = cli(config, "export", "fhir", written[0])
        assert shown.returncode == 0
        assert NAME in shown.stdout

    def test_rotate_new_writes_a_new_key_into_the_key_file_and_rewraps(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        rotated = cli(config, "keys", "rotate", "--new", "k9")
        assert rotated.returncode == 0, rotated.stderr
        assert Path(str(config.kek_file)).read_text().startswith("k9:")
        assert Path(str(config.kek_file)).read_text().count("\nk1:") == 1  # the old one kept
        assert Path(str(config.kek_file)).stat().st_mode & 0o077 == 0
        assert status(config)["k9"]["data_keys"] == 2

    def test_an_old_kek_is_retired_only_once_no_data_key_needs_it(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        add_kek_first(config, "k2")
        assert "'k1' still wraps 2 data key(s)" in refusal(config, "keys", "retire", "k1")
        assert cli(config, "keys", "rotate").returncode == 0
        retired = cli(config, "keys", "retire", "k1")
        assert retired.returncode == 0, retired.stderr
        assert status(config)["k1"]["retired_at"]

    def test_a_process_configured_with_a_retired_kek_first_refuses_to_start(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        file = Path(str(config.kek_file))
        old_config = file.read_text()
        assert cli(config, "keys", "rotate", "--new", "k2").returncode == 0
        assert cli(config, "keys", "retire", "k1").returncode == 0
        current_config = file.read_text()
        file.write_text(old_config)  # a host still configured with only k1
        for command in (("verify",), ("export", "fhir", written[0])):
            error = refusal(config, *command)
            assert "'k1'" in error
            assert "was retired" in error
        file.write_text(current_config)
        assert status(config)["k1"]["data_keys"] == 0  # nothing was wrapped by the retired key

    def test_removing_a_needed_kek_from_the_configuration_is_reported_by_status(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        only_kek(config, "k2")
        result = cli(config, "keys", "status", "--json")
        assert result.returncode == 1
        k1 = {k["kek_id"]: k for k in json.loads(result.stdout)["keks"]}["k1"]
        assert k1["missing"]
        assert k1["data_keys"] == 2


class TestRotationWithAKeyMissing:
    def test_rotate_reports_the_data_keys_it_could_not_rewrap_and_exits_1(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        only_kek(config, "k2")
        result = cli(config, "keys", "rotate")
        assert result.returncode == 1
        report = json.loads(result.stdout)
        assert report["rewrapped"] == 0
        assert report["failed"] == {"k1": 2}
        assert "'k1', which is not configured" in report["errors"][0]


class TestLostOrWrongKeys:
    def test_a_wrong_kek_is_a_clear_error_naming_the_key_and_the_patient(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        error = export_refused(config, "k1", written[0])
        assert "key-encryption key 'k1' as configured cannot unwrap" in error
        assert f"patient {written[0]}" in error
        assert status(config)["k1"]["wrong_value"]
        assert cli(config, "verify").returncode == 0  # the chain needs no key

    def test_a_kek_that_is_not_configured_is_named(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        error = export_refused(config, "k2", written[1])
        assert "wrapped by key-encryption key 'k1', which is not configured" in error

    def test_a_malformed_kek_configuration_is_refused_with_a_message(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        Path(str(config.kek_file)).write_text("k1:not-base64!\n")
        result = cli(config, "keys", "status")
        assert result.returncode == 2
        assert "key 'k1' is not valid base64" in result.stderr


class TestStoresEncryptedWithTheSingleKey:
    def test_old_records_stay_readable_and_new_ones_use_patient_keys(
        self, config: Config, tmp_path: Path
    ) -> None:
        legacy_key = AESCipher.create_key(num_bytes=32)
        old = CareLog(config.with_(kek_file=None, cipher_key=legacy_key))
        try:
            before = write_patient(old, make_team(old), "MRN-OLD")
        finally:
            old.close()
        both = config.with_(cipher_key=legacy_key)
        mixed = CareLog(both)
        try:
            after = write_patient(mixed, make_team(mixed), "MRN-NEW")
            assert mixed.app.get_record(before).plan.patient.name == NAME
        finally:
            mixed.close()
        # once imported, the single key is wrapped in the key table and may be dropped
        shown = cli(config, "export", "fhir", before)
        assert shown.returncode == 0, shown.stderr
        assert NAME in shown.stdout
        refused = cli(config, "erase", before, "--reason", "patient request")
        assert refused.returncode == 2
        assert "written before envelope encryption" in refused.stderr
        erased = cli(config, "erase", after, "--reason", "patient request")
        assert erased.returncode == 0, erased.stderr
        assert base64.b64decode(legacy_key)  # (the key itself is never printed)
        assert cli(config, "verify").returncode == 0


class TestRetention:
    def test_lists_only_patients_whose_last_event_is_past_the_period(
        self, carelog: CareLog, team: Team
    ) -> None:
        old = write_patient(carelog, team, "MRN-OLD")
        newer = write_patient(carelog, team, "MRN-NEWER")
        old_last = next(iter(carelog.app.events.get(UUID(old), desc=True, limit=1))).timestamp
        new_first = next(iter(carelog.app.events.get(UUID(newer), lte=1))).timestamp
        now = old_last + (new_first - old_last) / 2 + timedelta(days=365)
        due = past_retention(carelog, 365, now=now)
        assert [(d.patient_id, d.mrn) for d in due] == [(old, "MRN-OLD")]

    def test_the_cli_lists_nothing_within_the_period_and_everyone_after_it(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        within = json.loads(cli(config, "retention", "--json").stdout)
        assert within["due"] == []
        assert within["retention_days"] == 3652.5
        past = cli(config, "retention", "--json", CARELOG_RETENTION_DAYS="0")
        assert past.returncode == 0, past.stderr
        listed = json.loads(past.stdout)["due"]
        assert sorted(d["mrn"] for d in listed) == ["MRN-K1", "MRN-K2"]


class TestErasureThroughTheCli:
    def test_erase_needs_a_reason(self, config: Config, written: tuple[str, str]) -> None:
        result = cli(config, "erase", written[0])
        assert result.returncode == 2
        assert "--reason" in result.stderr

    def test_erasing_an_unknown_patient_is_a_clear_error(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        result = cli(config, "erase", "0b6d2d6e-7a3d-4a55-9f8e-3f1c5c7e9a10", "--reason", "x")
        assert result.returncode == 2
        assert "There is no patient 0b6d2d6e-7a3d-4a55-9f8e-3f1c5c7e9a10" in result.stderr

    def test_after_erasure_verify_rebuild_and_log_export_hold_no_clear_data(
        self, config: Config, written: tuple[str, str], tmp_path: Path
    ) -> None:
        gone, kept = written
        erased = cli(config, "erase", gone, "--reason", "patient request (art. 17)")
        assert erased.returncode == 0, erased.stderr
        assert json.loads(erased.stdout)["erased_by"].startswith("cli:")
        assert cli(config, "verify").returncode == 0
        rebuilt = cli(
            config,
            "projections",
            "rebuild",
            "--quiet",
            "current_plan",
            "audit_trail",
            "team_dashboard",
        )
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert cli(config, "verify").returncode == 0
        exported = cli(config, "export", "log", "--output", str(tmp_path / "log.ndjson"))
        assert exported.returncode == 0, exported.stderr
        log = (tmp_path / "log.ndjson").read_bytes()
        assert NAME.encode() not in log
        assert b"MRN-K1" not in log
        gone_fhir = cli(config, "export", "fhir", gone)
        assert gone_fhir.returncode == 2
        assert "Record erased on" in gone_fhir.stderr
        assert "art. 17" in gone_fhir.stderr
        kept_fhir = cli(config, "export", "fhir", kept)
        assert kept_fhir.returncode == 0
        assert "Bartholomew Quince" in kept_fhir.stdout
        if not config.is_postgres:
            found = disk_bytes(config)
            assert NAME.encode() not in found
            assert b"MRN-K1" not in found
            assert b"MRN-K2" in found  # the views hold the other patient: the check can fail


def snapshot_count(config: Config, pid: str) -> int:
    with RawLog(config) as raw:
        if config.is_postgres:
            table, param, value = f"{raw.schema}.carelog_snapshots", "%s", pid
        else:  # the library stores a UUID as its hex digits on SQLite
            table, param, value = "stored_snapshots", "?", UUID(pid).hex
        rows = raw.run(f"SELECT COUNT(*) FROM {table} WHERE originator_id = {param}", (value,))
        return int(rows[0][0])


class TestForgedErasureRecords:
    def test_a_tombstone_without_its_audited_erase_act_fails_verification(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        gone, forged = written
        assert cli(config, "erase", gone, "--reason", "patient request").returncode == 0
        assert cli(config, "verify").returncode == 0  # an audited erasure verifies
        carelog = CareLog(config)  # someone with write access to the key table
        try:
            assert carelog.keyring is not None
            carelog.keyring.table.erase(forged, datetime.now(UTC), "nobody", "forged")
        finally:
            carelog.close()
        result = cli(config, "verify")
        assert result.returncode == 1
        assert f"erasure record for patient {forged} has no audited erase act" in result.stdout
        assert gone not in result.stdout


class TestErasureAndSnapshots:
    def test_the_patients_snapshots_are_deleted(self, config: Config) -> None:
        carelog = CareLog(config.with_(snapshot_interval=2))
        try:
            team = make_team(carelog)
            gone = write_patient(carelog, team, "MRN-SNAP-1")
            kept = write_patient(carelog, team, "MRN-SNAP-2")
            carelog.app.flush_snapshots()
        finally:
            carelog.close()
        assert snapshot_count(config, gone) >= 1
        result = cli(config, "erase", gone, "--reason", "retention period over")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["snapshots"] >= 1
        assert snapshot_count(config, gone) == 0
        assert snapshot_count(config, kept) >= 1


class TestWithoutEnvelopeEncryption:
    def test_key_and_erase_commands_say_what_is_missing(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        plain = config.with_(kek_file=None)
        status = cli(plain, "keys", "status")
        assert status.returncode == 2
        assert "Envelope encryption is not configured" in status.stderr
        erase = cli(plain, "erase", written[0], "--reason", "asked")
        assert erase.returncode == 2
        assert "needs envelope encryption at rest" in erase.stderr


class TestMovingAStoreWithItsKeys:
    def test_a_log_export_carries_the_wrapped_keys_and_the_erasures_to_a_new_store(
        self, config: Config, written: tuple[str, str], tmp_path: Path
    ) -> None:
        gone, kept = written
        assert cli(config, "erase", gone, "--reason", "asked").returncode == 0
        file = tmp_path / "log.ndjson"
        assert cli(config, "export", "log", "-o", str(file)).returncode == 0
        header = json.loads(file.read_text().splitlines()[0])
        assert {d["subject_id"] for d in header["key_table"]["data_keys"]} >= {gone, kept}
        assert "Quince" not in file.read_text()
        fresh = fresh_store(config, tmp_path)
        imported = cli(fresh, "import", "log", str(file))
        assert imported.returncode == 0, imported.stderr
        shown = cli(fresh, "export", "fhir", kept)
        assert shown.returncode == 0, shown.stderr
        assert "Bartholomew Quince" in shown.stdout
        still_gone = cli(fresh, "export", "fhir", gone)
        assert still_gone.returncode == 2
        assert "Record erased on" in still_gone.stderr

    def test_an_import_with_a_different_key_under_the_same_id_is_refused(
        self, config: Config, written: tuple[str, str], tmp_path: Path
    ) -> None:
        file = tmp_path / "log.ndjson"
        assert cli(config, "export", "log", "-o", str(file)).returncode == 0
        fresh = fresh_store(config, tmp_path)
        other = tmp_path / "other-keks.txt"
        other.write_text(new_kek("k1") + "\n")
        refused = cli(fresh.with_(kek_file=str(other)), "import", "log", str(file))
        assert refused.returncode == 1
        assert "Key-encryption key(s) ['k1'] as configured here are not" in refused.stderr


class TestAProcessWithoutTheKek:
    def test_says_the_records_need_a_kek_instead_of_a_decoding_error(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        error = refusal(config.with_(kek_file=None), "export", "fhir", written[0])
        assert "encrypted with a per-patient data key" in error
        assert "set CARELOG_KEK" in error


class TestTheRelayAfterAnErasure:
    def test_maps_no_message_of_the_erased_patient_and_keeps_the_others(
        self, config: Config, written: tuple[str, str]
    ) -> None:
        from services.feeds.relay import Relay

        gone, kept = written

        def keys() -> set[str]:  # what the relay would publish (no broker is contacted)
            carelog = CareLog(config.with_(kafka_bootstrap="127.0.0.1:9"))
            try:
                batch = Relay(carelog)._prepare(0)
                assert batch is not None
                return {key.decode() for _, key, _ in batch.records}
            finally:
                carelog.close()

        assert {gone, kept} <= keys()  # the check can fail
        assert cli(config, "erase", gone, "--reason", "asked").returncode == 0
        after = keys()
        assert gone not in after
        assert kept in after
