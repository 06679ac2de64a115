"""The relay and a feed consumer over mutual TLS to a real broker: the relay publishes,
a role's consumer group reads, and every connection is a TLS session whose certificates
were checked both ways. A client trusting another CA, or speaking plaintext, gets nothing.

Tansu 0.6.0 (the test broker) does no TLS on its listener, so a TLS-terminating proxy
(tests/tls_proxy.py) sits in front of it and the broker advertises the proxy's address:
every connection the clients make, bootstrap and partition leaders alike, goes through a
real TLS handshake. SASL is not exercised against a broker here (unit-tested mapping only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.bootstrap import CareLog
from services.config import Config
from services.feeds.feed_contract import TOPICS
from services.feeds.feed_message import redact_for_role
from services.feeds.kafka_client import BrokerError, Consumer, Record, ensure_topics
from services.feeds.kafka_security import KafkaSecurity
from services.feeds.relay import Relay
from services.feeds.subscriber import FeedSubscriber
from services.integrity.witness import CHECKPOINT_TOPIC
from tests.cli_process import REPO, carelog_process
from tests.conftest import Team
from tests.integration.test_relay_kafka import (
    DEADLINE,
    Running,
    caught_up,
    read_lines,
    relay_and_follower,
    wait_for,
)
from tests.kafka_broker import (
    GROUP_SESSION,
    Broker,
    expected_messages,
    free_port,
    write_traffic,
)
from tests.tls_proxy import TlsProxy
from tests.tls_support import CertificateAuthority, make_ca

pytestmark = pytest.mark.kafka


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return make_ca(tmp_path / "ca")


@pytest.fixture
def tls_proxy(tmp_path: Path, ca: CertificateAuthority) -> Iterator[TlsProxy]:
    """Tansu behind a TLS proxy that requires a client certificate from the test CA."""
    proxy_port = free_port()
    broker = Broker(tmp_path / "tansu.log", advertised_port=proxy_port)
    broker.start()
    proxy = TlsProxy(
        ("127.0.0.1", broker.port),
        ca.server_cert,
        ca.server_key,
        client_ca=ca.ca,
        port=proxy_port,
    )
    proxy.start()
    yield proxy
    proxy.close()
    broker.close()


def mutual_tls(ca: CertificateAuthority) -> KafkaSecurity:
    return KafkaSecurity.from_env(
        {
            "CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL",
            "CARELOG_KAFKA_SSL_CAFILE": str(ca.ca),
            "CARELOG_KAFKA_SSL_CERTFILE": str(ca.client_cert),
            "CARELOG_KAFKA_SSL_KEYFILE": str(ca.client_key),
        }
    )


def assert_refused(address: str, security: KafkaSecurity | None = None) -> None:
    """Creating a topic through ``address`` fails: the client gets nothing from the broker."""
    with pytest.raises(BrokerError):
        ensure_topics(
            address,
            TOPICS[:1],
            partitions=1,
            replication_factor=1,
            timeout=3.0,
            security=security,
        )


class TestRelayOverTls:
    def test_the_relay_publishes_and_a_consumer_group_reads_over_mutual_tls(
        self, config: Config, ca: CertificateAuthority, tls_proxy: TlsProxy, team: Team
    ) -> None:
        security = mutual_tls(ca)
        kcarelog = CareLog(
            config.with_(
                kafka_bootstrap=tls_proxy.address, kafka_partitions=2, kafka_security=security
            )
        )
        try:
            write_traffic(kcarelog, team, patients=3, events=40)
            with Running(Relay(kcarelog, batch_size=50)) as relay:
                wait_for(caught_up(kcarelog, relay), "the relay over TLS")
            received: list[str] = []
            with FeedSubscriber(
                tls_proxy.address,
                "pharmacist",
                group_id="test-tls",
                from_beginning=True,
                session_timeout=GROUP_SESSION,
                security=security,
            ) as subscriber:
                wait_for(
                    lambda: (
                        bool(received.extend(m["id"] for m in subscriber.poll(0.5)))
                        or len(received) >= 5
                    ),
                    "messages over TLS",
                    DEADLINE,
                )
        finally:
            kcarelog.close()

        assert len(received) >= 5
        assert tls_proxy.handshakes >= 2  # the relay's and the consumer's connections
        assert set(tls_proxy.client_subjects) == {"carelog"}  # the client certificate

    def test_a_client_that_trusts_another_ca_refuses_the_broker(
        self, tmp_path: Path, tls_proxy: TlsProxy
    ) -> None:
        other = make_ca(tmp_path / "other", name="Not the broker's CA")
        assert_refused(tls_proxy.address, mutual_tls(other))
        assert tls_proxy.handshakes == 0

    def test_a_broker_certificate_for_another_host_name_is_refused(
        self, tmp_path: Path, ca: CertificateAuthority
    ) -> None:
        """Hostname checking is on: the right CA, but a certificate naming another host."""
        elsewhere = make_ca(tmp_path / "elsewhere", server_names=("broker.example",))
        broker = Broker(tmp_path / "tansu-elsewhere.log")
        broker.start()
        proxy = TlsProxy(("127.0.0.1", broker.port), elsewhere.server_cert, elsewhere.server_key)
        proxy.start()
        try:
            assert_refused(
                proxy.address,
                KafkaSecurity.from_env(
                    {
                        "CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL",
                        "CARELOG_KAFKA_SSL_CAFILE": str(elsewhere.ca),
                    }
                ),
            )
            assert proxy.handshakes == 0
        finally:
            proxy.close()
            broker.close()

    def test_a_client_without_a_certificate_is_refused_by_a_mutual_tls_broker(
        self, ca: CertificateAuthority, tls_proxy: TlsProxy
    ) -> None:
        server_only = KafkaSecurity.from_env(
            {"CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL", "CARELOG_KAFKA_SSL_CAFILE": str(ca.ca)}
        )
        assert_refused(tls_proxy.address, server_only)

    def test_a_plaintext_client_gets_nothing_from_the_tls_port(self, tls_proxy: TlsProxy) -> None:
        assert_refused(tls_proxy.address)
        assert tls_proxy.handshakes == 0


def tls_env(config: Config, proxy: TlsProxy, ca: CertificateAuthority) -> dict[str, str]:
    """The operator's way in: the environment, read by `carelog`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=config.database_url,
        CARELOG_CHECKPOINT_DIR=str(config.checkpoint_dir),
        CARELOG_KAFKA_BOOTSTRAP=proxy.address,
        CARELOG_KAFKA_PARTITIONS="2",
        CARELOG_KAFKA_SECURITY_PROTOCOL="SSL",
        CARELOG_KAFKA_SSL_CAFILE=str(ca.ca),
        CARELOG_KAFKA_SSL_CERTFILE=str(ca.client_cert),
        CARELOG_KAFKA_SSL_KEYFILE=str(ca.client_key),
    )
    if config.cipher_key:
        env["CARELOG_CIPHER_KEY"] = config.cipher_key
    return env


class TestCommandsOverTls:
    def test_carelog_relay_feed_follow_and_the_checkpoint_witness_use_the_tls_settings(
        self,
        config: Config,
        carelog: CareLog,
        team: Team,
        ca: CertificateAuthority,
        tls_proxy: TlsProxy,
        tmp_path: Path,
    ) -> None:
        write_traffic(carelog, team, patients=2, events=20)
        wanted = [m for m in expected_messages(carelog) if redact_for_role(m, "pharmacist")]
        env = tls_env(config, tls_proxy, ca)
        follow_args = ("--role", "pharmacist", "--json", "--from-beginning")
        with relay_and_follower(env, tmp_path / "relay.log", *follow_args) as follow:
            lines = read_lines(follow, len(wanted))
            signed = carelog_process("checkpoint", "--json", env=env, cwd=REPO, timeout=DEADLINE)

        assert sorted(json.loads(line)["id"] for line in lines) == sorted(m["id"] for m in wanted)
        assert signed.returncode == 0, signed.stderr
        seq = json.loads(signed.stdout)["seq"]
        witnessed: list[Record] = []
        consumer = Consumer(
            tls_proxy.address,
            [CHECKPOINT_TOPIC],
            group_id="test-witness",
            from_beginning=True,
            session_timeout=GROUP_SESSION,
            security=mutual_tls(ca),
        )
        try:
            wait_for(
                lambda: bool(witnessed.extend(consumer.poll(0.5))) or bool(witnessed),
                "the checkpoint on carelog.checkpoints over TLS",
            )
        finally:
            consumer.close()
        assert [json.loads(r.value)["seq"] for r in witnessed] == [seq]
        assert "SSL, client certificate" in (tmp_path / "relay.log").read_text()
