"""Kafka security settings: what an operator sets becomes exactly kafka-python's keyword
arguments for every client, and an inconsistent setting stops start-up with a message
naming the variable (never a plaintext connection or a late failure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.config import Config
from services.feeds.kafka_security import KafkaSecurity, KafkaSecurityError


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, str]:
    files = {}
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
        files[name] = str(tmp_path / name)
    return files


class TestDefaults:
    def test_nothing_set_is_plaintext_with_no_tls_or_sasl_arguments(self) -> None:
        assert KafkaSecurity.from_env({}).client_kwargs() == {"security_protocol": "PLAINTEXT"}

    def test_the_config_reads_the_security_settings(self, pems: dict[str, str]) -> None:
        config = Config.from_env(
            {"CARELOG_KAFKA_SECURITY_PROTOCOL": "ssl", "CARELOG_KAFKA_SSL_CAFILE": pems["ca.pem"]}
        )
        assert config.kafka_security.protocol == "SSL"
        assert config.kafka_security.ssl_cafile == pems["ca.pem"]


class TestTls:
    def test_ssl_checks_the_hostname_against_the_given_ca(self, pems: dict[str, str]) -> None:
        kwargs = KafkaSecurity.from_env(
            {"CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL", "CARELOG_KAFKA_SSL_CAFILE": pems["ca.pem"]}
        ).client_kwargs()
        assert kwargs == {
            "security_protocol": "SSL",
            "ssl_check_hostname": True,
            "ssl_cafile": pems["ca.pem"],
        }

    def test_mutual_tls_passes_the_client_certificate_and_key(
        self, pems: dict[str, str], tmp_path: Path
    ) -> None:
        (tmp_path / "key-password").write_text("s3cret\n")
        kwargs = KafkaSecurity.from_env(
            {
                "CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL",
                "CARELOG_KAFKA_SSL_CAFILE": pems["ca.pem"],
                "CARELOG_KAFKA_SSL_CERTFILE": pems["client.pem"],
                "CARELOG_KAFKA_SSL_KEYFILE": pems["client.key"],
                "CARELOG_KAFKA_SSL_KEY_PASSWORD_FILE": str(tmp_path / "key-password"),
            }
        ).client_kwargs()
        assert kwargs["ssl_certfile"] == pems["client.pem"]
        assert kwargs["ssl_keyfile"] == pems["client.key"]
        assert kwargs["ssl_password"] == "s3cret"
        assert kwargs["ssl_check_hostname"] is True

    def test_a_certificate_without_its_key_is_refused(self, pems: dict[str, str]) -> None:
        with pytest.raises(KafkaSecurityError, match="both CARELOG_KAFKA_SSL_CERTFILE"):
            KafkaSecurity.from_env(
                {
                    "CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL",
                    "CARELOG_KAFKA_SSL_CERTFILE": pems["client.pem"],
                }
            )

    def test_a_missing_ca_file_is_named(self, tmp_path: Path) -> None:
        with pytest.raises(KafkaSecurityError, match="CARELOG_KAFKA_SSL_CAFILE: no such file"):
            KafkaSecurity.from_env(
                {
                    "CARELOG_KAFKA_SECURITY_PROTOCOL": "SSL",
                    "CARELOG_KAFKA_SSL_CAFILE": str(tmp_path / "absent.pem"),
                }
            )

    def test_certificates_with_a_plaintext_protocol_are_refused(self, pems: dict[str, str]) -> None:
        with pytest.raises(KafkaSecurityError, match="use SSL or SASL_SSL"):
            KafkaSecurity.from_env({"CARELOG_KAFKA_SSL_CAFILE": pems["ca.pem"]})


class TestSasl:
    def test_sasl_ssl_with_scram_maps_to_kafka_python(self, pems: dict[str, str]) -> None:
        kwargs = KafkaSecurity.from_env(
            {
                "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CARELOG_KAFKA_SASL_MECHANISM": "scram-sha-256",
                "CARELOG_KAFKA_SASL_USERNAME": "carelog-relay",
                "CARELOG_KAFKA_SASL_PASSWORD": "pw",
                "CARELOG_KAFKA_SSL_CAFILE": pems["ca.pem"],
            }
        ).client_kwargs()
        assert kwargs == {
            "security_protocol": "SASL_SSL",
            "ssl_check_hostname": True,
            "ssl_cafile": pems["ca.pem"],
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_plain_username": "carelog-relay",
            "sasl_plain_password": "pw",
        }

    def test_the_default_mechanism_is_scram_sha_512(self) -> None:
        security = KafkaSecurity.from_env(
            {
                "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "CARELOG_KAFKA_SASL_USERNAME": "u",
                "CARELOG_KAFKA_SASL_PASSWORD": "p",
            }
        )
        assert security.client_kwargs()["sasl_mechanism"] == "SCRAM-SHA-512"
        assert "ssl_check_hostname" not in security.client_kwargs()

    def test_the_password_can_come_from_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "pw").write_text("from-a-secret\n")
        security = KafkaSecurity.from_env(
            {
                "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CARELOG_KAFKA_SASL_USERNAME": "u",
                "CARELOG_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "pw"),
            }
        )
        assert security.client_kwargs()["sasl_plain_password"] == "from-a-secret"

    @pytest.mark.parametrize(
        "missing",
        [
            {"CARELOG_KAFKA_SASL_USERNAME": "u"},
            {"CARELOG_KAFKA_SASL_PASSWORD": "p"},
            {},
        ],
    )
    def test_sasl_without_credentials_stops_start_up_clearly(self, missing: dict[str, str]) -> None:
        env = {"CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", **missing}
        with pytest.raises(SystemExit, match="needs CARELOG_KAFKA_SASL_USERNAME and"):
            Config.from_env(env)

    def test_an_unknown_mechanism_is_refused(self) -> None:
        with pytest.raises(KafkaSecurityError, match="must be one of PLAIN, SCRAM-SHA-256"):
            KafkaSecurity.from_env(
                {
                    "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                    "CARELOG_KAFKA_SASL_MECHANISM": "GSSAPI",
                    "CARELOG_KAFKA_SASL_USERNAME": "u",
                    "CARELOG_KAFKA_SASL_PASSWORD": "p",
                }
            )

    def test_credentials_with_a_non_sasl_protocol_are_refused(self) -> None:
        with pytest.raises(KafkaSecurityError, match="use SASL_SSL"):
            KafkaSecurity.from_env(
                {"CARELOG_KAFKA_SASL_USERNAME": "u", "CARELOG_KAFKA_SASL_PASSWORD": "p"}
            )

    def test_an_unreadable_password_file_is_named(self, tmp_path: Path) -> None:
        with pytest.raises(KafkaSecurityError, match="PASSWORD_FILE: cannot read"):
            KafkaSecurity.from_env(
                {
                    "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                    "CARELOG_KAFKA_SASL_USERNAME": "u",
                    "CARELOG_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / "absent"),
                }
            )

    def test_the_description_never_shows_the_password(self) -> None:
        security = KafkaSecurity.from_env(
            {
                "CARELOG_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CARELOG_KAFKA_SASL_USERNAME": "u",
                "CARELOG_KAFKA_SASL_PASSWORD": "hunter2",
            }
        )
        assert "hunter2" not in security.describe()
        assert "hunter2" not in repr(security)


class TestProtocol:
    def test_an_unknown_protocol_is_refused(self) -> None:
        with pytest.raises(SystemExit, match="CARELOG_KAFKA_SECURITY_PROTOCOL must be one of"):
            Config.from_env({"CARELOG_KAFKA_SECURITY_PROTOCOL": "TLS"})

    @pytest.mark.parametrize("client", [KafkaProducer, KafkaConsumer, KafkaAdminClient])
    def test_every_argument_is_one_each_kafka_client_knows(self, client: type) -> None:
        """Every key the mapping can produce is a documented setting of each client class
        (kafka-python ignores nothing silently only if the names are right)."""
        everything = KafkaSecurity(
            protocol="SASL_SSL",
            sasl_mechanism="PLAIN",
            sasl_username="u",
            sasl_password="p",
            ssl_cafile="ca",
            ssl_certfile="c",
            ssl_keyfile="k",
            ssl_key_password="x",
        ).client_kwargs()
        defaults = client.DEFAULT_CONFIG  # type: ignore[attr-defined]
        assert set(everything) <= set(defaults)


def sasl(protocol: str, mechanism: str) -> KafkaSecurity:
    return KafkaSecurity.from_env(
        {
            "CARELOG_KAFKA_SECURITY_PROTOCOL": protocol,
            "CARELOG_KAFKA_SASL_MECHANISM": mechanism,
            "CARELOG_KAFKA_SASL_USERNAME": "carelog-relay",
            "CARELOG_KAFKA_SASL_PASSWORD": "pw",
        }
    )


class TestPlaintextWarnings:
    def test_sasl_plain_without_tls_to_a_remote_broker_warns_of_the_password(self) -> None:
        warning = sasl("SASL_PLAINTEXT", "PLAIN").warning("kafka.example:9092")
        assert "SASL_PLAINTEXT and PLAIN" in str(warning)
        assert "password" in str(warning)
        assert "pw" not in str(warning).split()

    def test_a_remote_plaintext_broker_warns_that_records_are_in_clear(self) -> None:
        warning = KafkaSecurity().warning("localhost:9092,kafka-2.example:9092")
        assert "kafka-2.example" in str(warning)
        assert "PLAINTEXT" in str(warning)
        scram = sasl("SASL_PLAINTEXT", "SCRAM-SHA-512").warning("[2001:db8::1]:9092")
        assert "2001:db8::1" in str(scram)

    def test_tls_or_a_local_broker_is_not_warned_about(self) -> None:
        assert sasl("SASL_SSL", "PLAIN").warning("kafka.example:9092") is None
        assert sasl("SASL_PLAINTEXT", "PLAIN").warning("127.0.0.1:9092") is None
        assert KafkaSecurity().warning("localhost:9092,[::1]:9093") is None

    def test_the_warning_is_logged_once(self, caplog: pytest.LogCaptureFixture) -> None:
        security = sasl("SASL_PLAINTEXT", "PLAIN")
        with caplog.at_level("WARNING", logger="services.feeds.kafka_security"):
            security.warn_if_insecure("once.example:9092")
            security.warn_if_insecure("once.example:9092")
        assert len([r for r in caplog.records if "once.example" in r.message]) == 1
