"""Fixtures for the integration tests: a real Kafka-protocol broker (tansu) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_broker import Broker


@pytest.fixture
def kafka_broker(tmp_path: Path) -> Iterator[Broker]:
    """A tansu broker on a free loopback port, killed after the test."""
    broker = Broker(tmp_path / "tansu.log")
    broker.start()
    yield broker
    broker.close()
