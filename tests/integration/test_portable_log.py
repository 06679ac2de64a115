"""The portable log: export a store's events with their chain hashes, import them into an
empty store, and refuse a tampered file naming the first bad position."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.command_context import CommandContext
from projections.database import split_schema
from services.bootstrap import CareLog
from services.cli import main
from services.config import Config
from services.demo import seed
from services.fhir import build_bundle
from services.integrity.chain import GENESIS, canonical_id, event_bytes, link
from services.portable_log import LogImportError, export_log, import_log
from tests.conftest import Team
from tests.fhir_support import by_id


@pytest.fixture
def fresh(config: Config, tmp_path: Path) -> Iterator[CareLog]:
    """A second, empty store of the same kind (SQLite file or PostgreSQL schema)."""
    schema = None
    if config.is_postgres:
        import psycopg

        base, _ = split_schema(config.database_url)
        schema = f"t_{uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{base}?schema={schema}"
    else:
        url = f"sqlite:///{tmp_path / 'imported' / 'carelog.db'}"
    other = CareLog(
        config.with_(database_url=url, checkpoint_dir=str(tmp_path / "imported" / "checkpoints"))
    )
    yield other
    other.close()
    if schema is not None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def demo(carelog: CareLog) -> list[str]:
    patients = [str(p) for p in seed(carelog, patients=3, show_progress=False)["patients"]]
    carelog.integrity.checkpoint()
    return patients


def exported(carelog: CareLog, patient_id: str | None = None) -> list[dict[str, Any]]:
    out = io.StringIO()
    export_log(carelog, out, patient_id)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def text(lines: list[dict[str, Any]]) -> io.StringIO:
    return io.StringIO("".join(json.dumps(line) + "\n" for line in lines))


def stored(carelog: CareLog) -> list[tuple[Any, ...]]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in carelog.app.recorder.select_notifications(1, 100_000)
    ]


def record_bytes(line: dict[str, Any]) -> bytes:
    return event_bytes(
        canonical_id(UUID(line["originator_id"])),
        line["originator_version"],
        line["topic"],
        base64.b64decode(line["state"]),
    )


def rehash(lines: list[dict[str, Any]]) -> None:
    """Recompute every hash and the end line, as someone editing the file would."""
    previous = GENESIS
    events = [line for line in lines if line["kind"] == "event"]
    for line in events:
        previous = link(previous, line["position"], record_bytes(line))
        line["hash"] = previous.hex()
    lines[-1].update(events=len(events), last_position=events[-1]["position"], head=previous.hex())


def assert_refused(
    fresh: CareLog, lines: list[dict[str, Any]], position: int, message: str
) -> None:
    with pytest.raises(LogImportError, match=message) as refused:
        import_log(fresh, text(lines))
    assert refused.value.position == position
    assert not fresh.app.recorder.max_notification_id()  # nothing was loaded


class TestRoundTrip:
    def test_a_demo_store_comes_back_with_identical_plans_history_and_verification(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        result = import_log(fresh, text(exported(carelog)))
        assert result.events == len(stored(carelog))
        assert result.checkpoint_seq == 1
        assert stored(fresh) == stored(carelog)
        now = datetime.now(UTC)
        for patient_id in demo:
            assert fresh.app.get_record(patient_id).plan == carelog.app.get_record(patient_id).plan
            assert fresh.history.timeline(patient_id, limit=1000) == carelog.history.timeline(
                patient_id, limit=1000
            )
            events = carelog.history.events(patient_id)
            middle = events[len(events) // 2].timestamp
            assert fresh.history.in_effect_at(patient_id, middle, known_at=now).state == (
                carelog.history.in_effect_at(patient_id, middle, known_at=now).state
            )
            assert by_id(build_bundle(fresh.history, patient_id)) == by_id(
                build_bundle(carelog.history, patient_id)
            )
        source, copy = carelog.integrity.verify(), fresh.integrity.verify()
        assert source.ok, source.problems
        assert copy.ok, copy.problems
        assert [
            (r.records, r.head_position, r.head)
            for r in (source.chains["events"], copy.chains["events"])
        ] == [(result.events, result.last_position, result.head)] * 2

    def test_positions_are_kept_across_gaps_and_new_writes_follow_them(
        self, carelog: CareLog, fresh: CareLog, team: Team
    ) -> None:
        ctx = CommandContext(team.psychiatrist)
        carelog.commands.register_patient(
            ctx, external_id="MRN-GAP", name="Gap Patient", birth_date="1990-01-01"
        )
        lines = exported(carelog)
        lines[0]["checkpoint"] = None  # positions renumbered: no checkpoint vouches for them
        for offset, line in enumerate(lines[1:-1]):  # as a PostgreSQL sequence leaves gaps
            line["position"] = 10 * (offset + 1)
        rehash(lines)
        result = import_log(fresh, text(lines))
        assert [row[0] for row in stored(fresh)] == [10 * (i + 1) for i in range(result.events)]
        patient_id = fresh.app.find_by_external_id("MRN-GAP")
        assert patient_id is not None
        written = fresh.commands.execute(
            ctx,
            patient_id,
            "add_note",
            kind="progress",
            modality="supportive",
            text="After the move.",
        )
        assert written.position == result.last_position + 1
        assert fresh.integrity.verify().ok


class TestTamperedFiles:
    def test_a_changed_event_is_refused_at_its_position(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        victim = lines[20]
        state = bytearray(base64.b64decode(victim["state"]))
        state[10] ^= 0x01
        victim["state"] = base64.b64encode(bytes(state)).decode()
        assert_refused(fresh, lines, victim["position"], "does not match its chain hash")

    def test_a_removed_event_is_refused_at_the_next_position(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        removed = lines.pop(30)
        assert_refused(fresh, lines, removed["position"] + 1, "does not match its chain hash")

    def test_an_edit_with_every_hash_recomputed_is_caught_by_the_signed_checkpoint(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        lines[5]["topic"] = lines[6]["topic"]
        rehash(lines)
        head = lines[0]["checkpoint"]["chains"]["events"]["position"]
        assert_refused(fresh, lines, head, "signed checkpoint disagrees")

    def test_removing_the_event_the_checkpoint_vouches_for_is_caught_too(
        self, carelog: CareLog, fresh: CareLog, demo: list[str], team: Team
    ) -> None:
        carelog.commands.register_patient(
            CommandContext(team.psychiatrist),
            external_id="MRN-LATER",
            name="Later Patient",
            birth_date="1990-01-01",
        )
        lines = exported(carelog)
        head = lines[0]["checkpoint"]["chains"]["events"]["position"]
        lines = [line for line in lines if line.get("position") != head]
        rehash(lines)
        assert lines[-2]["position"] > head  # events follow the removed one
        assert_refused(fresh, lines, head, "signed checkpoint disagrees")

    def test_a_file_cut_short_is_refused(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)[:-5]
        assert_refused(fresh, lines, lines[-1]["position"] + 1, "cut short")

    def test_a_checkpoint_signed_by_another_key_is_refused_when_a_key_is_pinned(
        self, carelog: CareLog, fresh: CareLog, demo: list[str], tmp_path: Path
    ) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        other = tmp_path / "other.pub"
        other.write_bytes(
            Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        with pytest.raises(LogImportError, match="not by the trusted key"):
            import_log(fresh, text(exported(carelog)), public_key=other)
        assert not fresh.app.recorder.max_notification_id()

    def test_only_an_empty_store_takes_an_import(self, carelog: CareLog, demo: list[str]) -> None:
        with pytest.raises(LogImportError, match="not empty"):
            import_log(carelog, text(exported(carelog)))


class TestPatientExport:
    def test_holds_one_patients_events_each_verifiable_against_the_store_chain(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        whole = {line["position"]: line for line in exported(carelog) if line["kind"] == "event"}
        lines = exported(carelog, demo[1])
        events = [line for line in lines if line["kind"] == "event"]
        assert {line["originator_id"] for line in events} == {demo[1]}
        assert len(events) == len(carelog.history.events(demo[1]))
        for line in events:
            recomputed = link(bytes.fromhex(line["previous"]), line["position"], record_bytes(line))
            assert recomputed.hex() == line["hash"] == whole[line["position"]]["hash"]
        with pytest.raises(LogImportError, match="one patient's export"):
            import_log(fresh, text(lines))


class TestCommands:
    def test_export_then_import_through_the_cli_and_a_tampered_file_fails(
        self,
        carelog: CareLog,
        fresh: CareLog,
        demo: list[str],
        config: Config,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        target = tmp_path / "log.ndjson"
        monkeypatch.setenv("CARELOG_DATABASE_URL", config.database_url)
        monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", config.checkpoint_dir)
        assert main(["export", "log", "-o", str(target)]) == 0
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        lines[12]["originator_version"] += 1
        tampered = tmp_path / "tampered.ndjson"
        tampered.write_text("".join(json.dumps(line) + "\n" for line in lines))
        monkeypatch.setenv("CARELOG_DATABASE_URL", fresh.config.database_url)
        monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", fresh.config.checkpoint_dir)
        capsys.readouterr()
        assert main(["import", "log", str(tampered)]) == 1
        assert f"position {lines[12]['position']}" in capsys.readouterr().err
        assert main(["import", "log", str(target)]) == 0
        assert "checkpoint 1" in capsys.readouterr().out
        assert stored(fresh) == stored(carelog)
        operator = [r for r in carelog.access_log.read_after(0, 100) if r["what"] == "export.log"]
        assert len(operator) == 1
