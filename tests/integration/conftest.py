"""Fixtures for the integration tests: a real Kafka-protocol broker (tansu) per test, a
CareLog on PostgreSQL alone, the test's store as the CLI sees it, and what an auditor
brings to ``carelog verify`` (the pinned public key and a machine of their own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from services.bootstrap import CareLog
from services.config import Config
from tests.cli_process import use_store
from tests.integration.views_support import postgres_config
from tests.kafka_broker import Broker


@pytest.fixture
def kafka_broker(tmp_path: Path) -> Iterator[Broker]:
    """A tansu broker on a free loopback port, killed after the test."""
    broker = Broker(tmp_path / "tansu.log")
    broker.start()
    yield broker
    broker.close()


@pytest.fixture
def pg_carelog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CareLog]:
    """A CareLog on an empty PostgreSQL schema, for PostgreSQL-only behaviour (skipped
    when ``--store sqlite`` was chosen)."""
    instance = CareLog(postgres_config(request, tmp_path))
    yield instance
    instance.close()


@pytest.fixture
def cli_store(config: Config, monkeypatch: pytest.MonkeyPatch) -> Config:
    """The test's store, as the ``carelog`` commands it runs in this process see it."""
    use_store(monkeypatch, config)
    return config


@pytest.fixture
def auditor(tmp_path: Path) -> dict[str, str]:
    """The environment of an auditor's machine: no signing key, no signer's record."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "auditor-home")}


@pytest.fixture
def pinned(carelog: CareLog, tmp_path: Path) -> Path:
    """The public key an auditor keeps, away from the server."""
    private = carelog.integrity.key.private_key()
    assert private is not None
    path = tmp_path / "auditor" / "carelog-signing.pub"
    path.parent.mkdir()
    path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path
