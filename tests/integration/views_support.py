"""Helpers for the view tests: a second views database over the same log, row dumps, and
small write helpers."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from projections.runner import Views
from services.bootstrap import CareLog
from services.config import Config
from tests import synthetic_patients as synthetic
from tests.conftest import Team


def views_url_beside(config: Config, folder: Path, tag: str) -> str:
    """A fresh, empty views database next to the store (a SQLite file, or a PostgreSQL
    schema in the store's database)."""
    if not config.is_postgres:
        return f"sqlite:///{folder / f'views-{tag}-{uuid.uuid4().hex[:6]}.db'}"
    import psycopg

    from projections.sql.postgres import split_schema

    base, _ = split_schema(config.database_url)
    schema = f"v_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}schema={schema}"


def dumps(views: Views) -> dict[str, Any]:
    return {name: view.dump() for name, view in views.views.items()}


def fresh_replay(
    carelog: CareLog, folder: Path, batch_size: int = 500, cache_size: int = 2048
) -> dict[str, Any]:
    """Every view built from zero, in one go, in a views database of its own (reading the
    same event log and the same access log). ``cache_size=0`` folds every patient again
    from its record on every batch."""
    config = carelog.config
    other = CareLog(config.with_(views_url=views_url_beside(config, folder, "replay")))
    try:
        views = Views(
            other.app,
            other.db,
            ReadOnlyAccess(carelog.access_log),
            batch_size=batch_size,
            cache_size=cache_size,
        )
        views.catch_up()
        return dumps(views)
    finally:
        other.close()


class ReadOnlyAccess:
    """The original access log, read from another views database: a replay must see the
    same accesses and must never write any."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.channel = source.channel

    def read_after(self, position: int, limit: int) -> list[dict[str, Any]]:
        return list(self.source.read_after(position, limit))

    def head(self) -> int:
        return int(self.source.head())

    def on_append(self, callback: Any) -> None:
        pass

    def record(self, **fields: Any) -> int:  # pragma: no cover - never called in replays
        raise AssertionError("a replay must not write to the access log")


def register(carelog: CareLog, team: Team, mrn: str, name: str = "Test Patient") -> str:
    return carelog.commands.register_patient(
        CommandContext(team.psychiatrist),
        c.RegisterPatient(external_id=mrn, name=name, birth_date=date.fromisoformat("1980-02-03")),
    ).patient_id


def join_team(carelog: CareLog, team: Team, pid: str) -> None:
    for who, role in ((team.therapist, "therapist"), (team.pharmacist, "pharmacist")):
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.AssignCareTeamMember(clinician_id=who.id, role=role),
        )


def prescribe(
    carelog: CareLog, team: Team, pid: str, drug: str = "sertraline", amount: float = 50
) -> str:
    ctx = CommandContext(team.psychiatrist)
    return synthetic.prescribe(carelog, ctx, pid, drug=drug, dose=Dose(amount, "mg"))


def phq9(carelog: CareLog, team: Team, pid: str, items: list[int]) -> Any:
    return carelog.commands.execute(
        CommandContext(team.therapist),
        pid,
        c.RecordAssessment(instrument="PHQ-9", item_scores=items),
    )


def note(carelog: CareLog, team: Team, pid: str, text: str = "seen today") -> Any:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist),
        pid,
        c.AddNote(kind="progress", modality="supportive", text=text),
    )


def postgres_config(request: Any, folder: Path) -> Config:
    """A Config on an empty PostgreSQL schema, for tests of PostgreSQL-only behaviour
    (LISTEN/NOTIFY, the table lock); skipped only when ``--store sqlite`` was chosen."""
    import pytest

    if request.config.getoption("--store") == "sqlite":
        pytest.skip("PostgreSQL-only behaviour; --store sqlite was chosen")
    import psycopg

    database = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return Config(
        database_url=f"{database}?schema={schema}",
        checkpoint_dir=str(folder / "checkpoints"),
        run_projections=False,
        group_commit_ms=0,
        secret_key="test-secret",
        pool_size=4,
    )
