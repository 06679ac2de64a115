"""Helpers for the envelope-encryption tests: KEK configuration, the CLI as a subprocess,
and the bytes a store holds on disk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from services.config import Config
from services.keys.kek import new_kek
from tests.cli_process import REPO, carelog_process


def with_kek(config: Config, tmp_path: Path, kek_id: str = "k1") -> Config:
    """The config with envelope encryption on: a KEK file holding one new key."""
    file = tmp_path / "keks.txt"
    if not file.exists():
        file.write_text(new_kek(kek_id) + "\n")
    return config.with_(kek_file=str(file))


def cli(config: Config, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``carelog ARGS`` in a subprocess over the store and keys of ``config``."""
    environment = {
        **os.environ,
        "CARELOG_DATABASE_URL": config.database_url,
        "CARELOG_CHECKPOINT_DIR": str(config.checkpoint_dir),
        "CARELOG_CHECKPOINT_INTERVAL": "0",
        "CARELOG_KEK_FILE": config.kek_file or "",
        "CARELOG_CIPHER_KEY": config.cipher_key or "",
        **env,
    }
    return carelog_process(*args, env=environment, timeout=300, cwd=REPO)


def disk_bytes(config: Config) -> bytes:
    """Every byte of a SQLite store's files (event store and views, with their logs)."""
    found = b""
    path = config.sqlite_path
    for base in (path, path.with_name(path.stem + "-views" + path.suffix)):
        for file in (base, base.with_name(base.name + "-wal")):
            if file.exists():
                found += file.read_bytes()
    return found


def views_dump(carelog: Any) -> bytes:
    """Every row of every views table, as text (PostgreSQL or SQLite)."""
    db = carelog.db
    if db.dialect == "sqlite":
        tables = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")]
    else:
        tables = [
            r["table_name"]
            for r in db.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ]
    out = []
    for table in tables:
        for row in db.query(f'SELECT * FROM "{table}"'):
            out.append(repr(dict(row)))
    return "\n".join(out).encode()


def fresh_store(config: Config, tmp_path: Path) -> Config:
    """Another empty store like ``config``'s (a new SQLite file or PostgreSQL schema)."""
    if not config.is_postgres:
        url = f"sqlite:///{tmp_path / 'fresh' / 'carelog.db'}"
    else:
        import uuid

        import psycopg

        from projections.sql.postgres import split_schema

        base, _ = split_schema(config.database_url)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{base}?schema={schema}"
    return config.with_(database_url=url, checkpoint_dir=str(tmp_path / "fresh-checkpoints"))
