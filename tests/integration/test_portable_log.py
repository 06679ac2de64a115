"""The portable log: export a store's events with their chain hashes, import them into an
empty store, and refuse a tampered file naming the first bad position."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from projections.sql.postgres import split_schema
from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.cli.main import main
from services.config import Config
from services.integrity.chain import GENESIS, canonical_id, event_bytes, link
from services.integrity.checkpoints import ChainHead, Checkpoint
from services.integrity.log_export import export_log
from services.integrity.log_import import import_log
from services.integrity.portable_log import LogImportError
from services.integrity.signing_key import PUBLIC_KEY_FILE, key_id
from services.interop.fhir import build_bundle
from tests.conftest import Team
from tests.fhir_support import by_id
from tests.synthetic_patients import register


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
    other = CareLog(  # another machine: its own checkpoint folder and signing key
        config.with_(
            database_url=url,
            checkpoint_dir=str(tmp_path / "imported" / "checkpoints"),
            signing_key=str(tmp_path / "imported-keys" / "signing.key"),
        )
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


def exported(
    carelog: CareLog, patient_id: str | None = None, *, sign: bool = True, notes: bool = True
) -> list[dict[str, Any]]:
    """An export; with psychotherapy notes unless ``notes=False`` (moving a store needs
    them: an export without them cannot be imported)."""
    out = io.StringIO()
    export_log(carelog, out, patient_id, sign=sign, include_psychotherapy_notes=notes)
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


def resign(carelog: CareLog, lines: list[dict[str, Any]]) -> None:
    """Sign a checkpoint over the file's (recomputed) head with the source store's key, as
    its owner may after moving events on purpose."""
    private = carelog.integrity.key.private_key()
    assert private is not None
    lines[0]["checkpoint"] = (
        Checkpoint(
            seq=1,
            time=datetime.now(UTC).isoformat(),
            chains={"events": ChainHead(lines[-1]["last_position"], lines[-1]["head"])},
            previous=None,
            key_id=key_id(private.public_key()),
        )
        .signed(private)
        .as_json()
    )


def assert_refused(
    fresh: CareLog,
    lines: list[dict[str, Any]],
    position: int,
    message: str,
    **options: Any,
) -> None:
    with pytest.raises(LogImportError, match=message) as refused:
        import_log(fresh, text(lines), **options)
    assert refused.value.position == position
    assert not fresh.app.recorder.max_notification_id()  # nothing was loaded
    assert fresh.integrity.directory.latest() is None  # nor signed


def verified(carelog: CareLog) -> tuple[Any, ...]:
    """What `carelog verify` says of the event log: its chain and what vouches for it."""
    result = carelog.integrity.verify()
    events = result.chains["events"]
    return (
        result.ok,
        events.records,
        events.head_position,
        events.head,
        events.attested_position,
        result.checkpoints > 0,
        [w for w in result.warnings if "no valid checkpoint" in w or w.startswith("events")],
    )


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
        assert result.local_checkpoint_seq == 1  # signed here, with the copy's own key
        assert copy.checkpoints == 1
        assert copy.key_id != source.key_id
        assert (
            verified(fresh)
            == verified(carelog)
            == (
                True,
                result.events,
                result.last_position,
                result.head,
                result.last_position,  # a valid checkpoint vouches for every imported event
                True,
                [],
            )
        )

    def test_positions_are_kept_across_gaps_and_new_writes_follow_them(
        self, carelog: CareLog, fresh: CareLog, team: Team
    ) -> None:
        ctx = CommandContext(team.psychiatrist)
        carelog.commands.register_patient(
            ctx,
            c.RegisterPatient(
                external_id="MRN-GAP",
                name="Gap Patient",
                birth_date=date.fromisoformat("1990-01-01"),
            ),
        )
        lines = exported(carelog)
        for offset, line in enumerate(lines[1:-1]):  # as a PostgreSQL sequence leaves gaps
            line["position"] = 10 * (offset + 1)
        rehash(lines)
        resign(carelog, lines)  # positions renumbered: the owner's key vouches for them anew
        pinned = Path(carelog.config.checkpoint_dir) / PUBLIC_KEY_FILE
        result = import_log(fresh, text(lines), public_key=pinned)
        assert result.vouched
        assert [row[0] for row in stored(fresh)] == [10 * (i + 1) for i in range(result.events)]
        patient_id = fresh.app.find_by_external_id("MRN-GAP")
        assert patient_id is not None
        written = fresh.commands.execute(
            ctx,
            patient_id,
            c.AddNote(kind="progress", modality="supportive", text="After the move."),
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
            c.RegisterPatient(
                external_id="MRN-LATER",
                name="Later Patient",
                birth_date=date.fromisoformat("1990-01-01"),
            ),
        )
        lines = exported(carelog, sign=False)  # the demo's checkpoint, before the new patient
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

    def test_an_edit_with_the_checkpoint_removed_is_refused_even_with_the_key_pinned(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        lines[5]["topic"] = lines[6]["topic"]
        lines[0]["checkpoint"] = None
        rehash(lines)
        assert_refused(fresh, lines, 0, "no signed checkpoint.*--allow-unsigned")
        pinned = Path(carelog.config.checkpoint_dir) / PUBLIC_KEY_FILE
        assert_refused(
            fresh, lines, 0, "nothing in it is signed by the pinned key", public_key=pinned
        )
        assert_refused(
            fresh,
            lines,
            0,
            "nothing in it is signed by the pinned key",
            public_key=pinned,
            allow_unsigned=True,
        )

    def test_events_appended_after_the_checkpoint_are_refused(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        head = lines[0]["checkpoint"]["chains"]["events"]["position"]
        assert head == lines[-2]["position"]  # the export signed a checkpoint over its head
        last = lines[-2]
        forged = {
            **last,
            "position": head + 1,
            "originator_version": last["originator_version"] + 1,
        }
        lines.insert(-1, forged)
        rehash(lines)
        assert_refused(fresh, lines, head + 1, "not covered by the signed checkpoint")

    def test_two_events_claiming_one_record_version_are_refused_however_signed(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        lines.insert(-1, {**lines[-2], "position": lines[-2]["position"] + 1})
        rehash(lines)
        resign(carelog, lines)
        assert_refused(fresh, lines, 0, "claim the same version of one record")

    def test_an_unsigned_file_is_taken_only_when_the_operator_opts_in_and_is_not_signed_here(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        lines[0]["checkpoint"] = None
        result = import_log(fresh, text(lines), allow_unsigned=True)
        assert (result.checkpoint_seq, result.vouched, result.local_checkpoint_seq) == (
            None,
            False,
            None,
        )
        assert stored(fresh) == stored(carelog)
        check = fresh.integrity.verify()
        assert check.ok
        assert check.checkpoints == 0  # nothing vouches for it: verify keeps saying so
        assert any("no valid checkpoint" in w for w in check.warnings)

    def test_a_store_with_checkpoints_of_its_own_takes_no_import(
        self, carelog: CareLog, fresh: CareLog, demo: list[str]
    ) -> None:
        lines = exported(carelog)
        fresh.integrity.directory.path.mkdir(parents=True, exist_ok=True)
        fresh.integrity.directory.write(Checkpoint.from_json(lines[0]["checkpoint"]))
        with pytest.raises(LogImportError, match="already holds checkpoints"):
            import_log(fresh, text(lines))
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


def therapy_chart(carelog: CareLog, team: Team) -> dict[str, str]:
    """A patient with a progress note, a psychotherapy note and a correction of the latter."""
    ctx = CommandContext(team.psychiatrist)
    pid = register(carelog, ctx, "MRN-THERAPY", "Therapy Patient", "1990-01-01")
    carelog.commands.execute(
        ctx, pid, c.AssignCareTeamMember(clinician_id=team.therapist.id, role="therapist")
    )
    therapist = CommandContext(team.therapist)
    carelog.commands.execute(
        therapist, pid, c.AddNote(kind="progress", modality="CBT", text="PROGRESS-VISIBLE")
    )
    note = carelog.commands.execute(
        therapist, pid, c.AddNote(kind="psychotherapy", modality="CBT", text="SECRET-SESSION")
    )
    carelog.commands.execute(
        therapist,
        pid,
        c.CorrectEntry(event_id=note.event_id, fields={"text": "SECRET-CORRECTED"}, reason="typo"),
    )
    carelog.integrity.checkpoint()
    return {"pid": str(pid), "note": note.event_id}


def decoded_states(lines: list[dict[str, Any]]) -> str:
    return " ".join(
        base64.b64decode(line["state"]).decode("utf-8", "replace")
        for line in lines
        if line["kind"] == "event" and line["state"] is not None
    )


class TestPsychotherapyNotes:
    """An export leaves psychotherapy notes out unless the operator names them; the file
    says so, its chain still checks around them, and it is never imported as a store."""

    def test_an_export_withholds_the_notes_and_their_corrections_by_default(
        self, carelog: CareLog, team: Team
    ) -> None:
        chart = therapy_chart(carelog, team)
        lines = exported(carelog, notes=False)
        assert lines[0]["psychotherapy_notes"] == "withheld"
        withheld = [line for line in lines if line["kind"] == "event" and line.get("withheld")]
        assert len(withheld) == 2  # the note and its correction
        assert all(line["state"] is None for line in withheld)
        assert {line["originator_id"] for line in withheld} == {chart["pid"]}
        assert lines[-1]["withheld"] == 2
        if not carelog.config.cipher_key:
            states = decoded_states(lines)
            assert "SECRET" not in states
            assert "PROGRESS-VISIBLE" in states

    def test_asked_for_by_name_the_notes_are_in_and_the_header_says_so(
        self, carelog: CareLog, team: Team
    ) -> None:
        therapy_chart(carelog, team)
        lines = exported(carelog, notes=True)
        assert lines[0]["psychotherapy_notes"] == "included"
        assert not any(line.get("withheld") for line in lines if line["kind"] == "event")
        if not carelog.config.cipher_key:
            assert "SECRET-SESSION" in decoded_states(lines)

    def test_one_patients_export_withholds_them_too(self, carelog: CareLog, team: Team) -> None:
        chart = therapy_chart(carelog, team)
        lines = exported(carelog, chart["pid"], notes=False)
        assert (
            len([line for line in lines if line["kind"] == "event" and line.get("withheld")]) == 2
        )

    def test_the_chain_around_withheld_notes_still_checks_to_the_signed_head(
        self, carelog: CareLog, team: Team
    ) -> None:
        therapy_chart(carelog, team)
        carelog.commands.register_patient(
            CommandContext(team.psychiatrist),
            c.RegisterPatient(
                external_id="MRN-AFTER",
                name="After Patient",
                birth_date=date.fromisoformat("1991-01-01"),
            ),
        )
        lines = exported(carelog, notes=False)
        previous = GENESIS
        for line in lines[1:-1]:
            if line.get("withheld"):
                previous = bytes.fromhex(line["hash"])  # the link is kept, the bytes are not
                continue
            previous = link(previous, line["position"], record_bytes(line))
            assert previous.hex() == line["hash"]
        assert (
            previous.hex()
            == lines[-1]["head"]
            == lines[0]["checkpoint"]["chains"]["events"]["head"]
        )

    def test_a_file_with_withheld_notes_is_not_imported_and_says_how_to_move_a_store(
        self, carelog: CareLog, fresh: CareLog, team: Team
    ) -> None:
        therapy_chart(carelog, team)
        lines = exported(carelog, notes=False)
        first = next(line for line in lines if line["kind"] == "event" and line.get("withheld"))
        assert_refused(fresh, lines, first["position"], "--include-psychotherapy-notes")
        assert import_log(fresh, text(exported(carelog, notes=True))).vouched

    def test_the_cli_records_the_choice_in_the_access_log(
        self,
        carelog: CareLog,
        team: Team,
        config: Config,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        therapy_chart(carelog, team)
        monkeypatch.setenv("CARELOG_DATABASE_URL", config.database_url)
        monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", config.checkpoint_dir)
        if config.cipher_key:
            monkeypatch.setenv("CARELOG_CIPHER_KEY", config.cipher_key)
        target = tmp_path / "redacted.ndjson"
        assert main(["export", "log", "-o", str(target)]) == 0
        assert "2 psychotherapy note entries withheld" in capsys.readouterr().err
        assert json.loads(target.read_text().splitlines()[0])["psychotherapy_notes"] == "withheld"
        assert main(["export", "log", "-o", str(target), "--include-psychotherapy-notes"]) == 0
        entries = [r for r in carelog.access_log.read_after(0, 100) if r["what"] == "export.log"]
        assert [json.loads(r["details"])["psychotherapy_notes"] for r in entries] == [
            "withheld",
            "included",
        ]


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
        assert main(["export", "log", "-o", str(target), "--include-psychotherapy-notes"]) == 0
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
        out = capsys.readouterr().out
        source_key = carelog.integrity.verify().key_id
        assert f"key {source_key} was trusted from the file itself" in out
        assert "Checkpoint 1 signed with this store's key" in out
        assert stored(fresh) == stored(carelog)
        assert verified(fresh) == verified(carelog)
        operator = [r for r in carelog.access_log.read_after(0, 100) if r["what"] == "export.log"]
        assert len(operator) == 1

    def test_import_refuses_an_unsigned_file_unless_told_and_names_a_pinned_key(
        self,
        carelog: CareLog,
        fresh: CareLog,
        demo: list[str],
        config: Config,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        lines = exported(carelog)
        signed, unsigned = tmp_path / "signed.ndjson", tmp_path / "unsigned.ndjson"
        signed.write_text(text(lines).getvalue())
        lines[0]["checkpoint"] = None
        unsigned.write_text(text(lines).getvalue())
        pinned = Path(config.checkpoint_dir) / PUBLIC_KEY_FILE
        monkeypatch.setenv("CARELOG_DATABASE_URL", fresh.config.database_url)
        monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", fresh.config.checkpoint_dir)
        capsys.readouterr()
        assert main(["import", "log", str(unsigned)]) == 1
        assert "no signed checkpoint" in capsys.readouterr().err
        assert main(["import", "log", str(signed), "--public-key", str(pinned)]) == 0
        out = capsys.readouterr().out
        assert f"{carelog.integrity.verify().key_id} is the one you pinned" in out
        assert "trusted from the file" not in out

    def test_an_export_no_checkpoint_covers_warns_that_import_will_refuse_it(
        self,
        carelog: CareLog,
        team: Team,
        config: Config,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        carelog.commands.register_patient(
            CommandContext(team.psychiatrist),
            c.RegisterPatient(
                external_id="MRN-NOKEY",
                name="Unsigned Patient",
                birth_date=date.fromisoformat("1990-01-01"),
            ),
        )
        assert carelog.integrity.key.private_key(create=False) is None  # never checkpointed
        monkeypatch.setenv("CARELOG_DATABASE_URL", config.database_url)
        monkeypatch.setenv("CARELOG_CHECKPOINT_DIR", config.checkpoint_dir)
        capsys.readouterr()
        assert main(["export", "log", "-o", str(tmp_path / "log.ndjson")]) == 0
        assert "import log` will refuse this file" in capsys.readouterr().err
        assert carelog.integrity.key.private_key(create=False) is None  # no key made up

    def test_allow_unsigned_is_offered_in_the_help(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit):
            main(["import", "log", "--help"])
        assert "--allow-unsigned" in capsys.readouterr().out
