"""How CareLog's Kafka clients authenticate and encrypt: one checked setting shared by every
producer, consumer and admin client (relay, ``carelog feed follow``, checkpoint witness).

The plan-changes topic carries drug names and doses keyed by patient, so transmission
security matters (HIPAA 164.312(e)). The settings are checked when CareLog starts, not
when the first record is sent: a SASL mechanism without credentials, a certificate file
that is not there, or a client key without its certificate stop start-up with a message
naming the variable. Hostname checking is always on when TLS is; there is no setting to
turn it off.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")

SETTINGS: dict[str, str] = {
    "CARELOG_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL "
    "for every Kafka client (relay, feed follow, checkpoint witness)",
    "CARELOG_KAFKA_SASL_MECHANISM": "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (SASL_* protocols; "
    "default SCRAM-SHA-512)",
    "CARELOG_KAFKA_SASL_USERNAME": "SASL user name (required with a SASL_* protocol)",
    "CARELOG_KAFKA_SASL_PASSWORD": "SASL password; or CARELOG_KAFKA_SASL_PASSWORD_FILE",
    "CARELOG_KAFKA_SASL_PASSWORD_FILE": "A file holding the SASL password (first line), "
    "e.g. a mounted secret",
    "CARELOG_KAFKA_SSL_CAFILE": "CA certificate(s) (PEM) the broker's certificate must chain "
    "to; unset: the system's trust store. Hostnames are always checked",
    "CARELOG_KAFKA_SSL_CERTFILE": "Client certificate (PEM) for mutual TLS",
    "CARELOG_KAFKA_SSL_KEYFILE": "Client private key (PEM) for mutual TLS",
    "CARELOG_KAFKA_SSL_KEY_PASSWORD_FILE": "A file holding the client key's password, if "
    "the key is encrypted",
}


class KafkaSecurityError(ValueError):
    """The Kafka security settings are inconsistent or name files that cannot be read."""


@dataclass(frozen=True)
class KafkaSecurity:
    """Validated Kafka client security; ``client_kwargs()`` is what kafka-python takes."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: str | None = field(default=None, repr=False)

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            kwargs["ssl_check_hostname"] = True
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                value = getattr(self, name)
                if value:
                    kwargs[name] = value
            if self.ssl_key_password:
                kwargs["ssl_password"] = self.ssl_key_password
        if self.uses_sasl:
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.sasl_username
            kwargs["sasl_plain_password"] = self.sasl_password
        return kwargs

    def describe(self) -> str:
        """For logs: the protocol and mechanism, never a secret."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username}")
        if self.uses_tls and self.ssl_certfile:
            parts.append("client certificate")
        return ", ".join(parts)

    def warning(self, bootstrap: str) -> str | None:
        """What to tell an operator whose records (drug names and doses keyed by patient)
        or SASL password cross a network in clear: a non-loopback bootstrap server without
        TLS; worst with SASL PLAIN, which sends the password itself. None otherwise."""
        hosts = [_host(server) for server in bootstrap.split(",") if server.strip()]
        if self.uses_tls or all(_is_local(h) for h in hosts):
            return None
        where = ", ".join(hosts)
        if self.uses_sasl and self.sasl_mechanism == "PLAIN":
            return (
                f"Kafka at {where} is reached with SASL_PLAINTEXT and PLAIN: the SASL password "
                'and every record cross the network in clear (README, "TLS to Kafka and '
                'PostgreSQL": set CARELOG_KAFKA_SECURITY_PROTOCOL=SASL_SSL)'
            )
        return (
            f"Kafka at {where} is reached with {self.protocol}: records (drug names and doses "
            'keyed by patient) cross the network in clear (README, "TLS to Kafka and '
            'PostgreSQL": set CARELOG_KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL)'
        )

    def warn_if_insecure(self, bootstrap: str) -> None:
        """Log ``warning(bootstrap)``, once per process and bootstrap list."""
        text = self.warning(bootstrap)
        if text and text not in _warned:
            _warned.add(text)
            logging.getLogger(__name__).warning(text)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        """Read and check the CARELOG_KAFKA_SECURITY_* / _SASL_* / _SSL_* settings."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        protocol = (get("CARELOG_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(
                f"CARELOG_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(PROTOCOLS)}, "
                f"not {protocol!r}"
            )
        sasl = protocol.startswith("SASL_")
        tls = protocol in ("SSL", "SASL_SSL")
        mechanism = get("CARELOG_KAFKA_SASL_MECHANISM")
        username = get("CARELOG_KAFKA_SASL_USERNAME")
        password = env.get("CARELOG_KAFKA_SASL_PASSWORD") or None
        password_file = get("CARELOG_KAFKA_SASL_PASSWORD_FILE")
        if not sasl:
            given = [
                name
                for name, value in (
                    ("CARELOG_KAFKA_SASL_MECHANISM", mechanism),
                    ("CARELOG_KAFKA_SASL_USERNAME", username),
                    ("CARELOG_KAFKA_SASL_PASSWORD", password),
                    ("CARELOG_KAFKA_SASL_PASSWORD_FILE", password_file),
                )
                if value
            ]
            if given:
                raise KafkaSecurityError(
                    f"{', '.join(given)} set, but CARELOG_KAFKA_SECURITY_PROTOCOL is "
                    f"{protocol}: use SASL_SSL (or SASL_PLAINTEXT) for SASL credentials"
                )
        else:
            mechanism = (mechanism or "SCRAM-SHA-512").upper()
            if mechanism not in MECHANISMS:
                raise KafkaSecurityError(
                    f"CARELOG_KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)}, "
                    f"not {mechanism!r}"
                )
            if password and password_file:
                raise KafkaSecurityError(
                    "Set CARELOG_KAFKA_SASL_PASSWORD or CARELOG_KAFKA_SASL_PASSWORD_FILE, not both"
                )
            if password_file:
                password = _first_line(password_file, "CARELOG_KAFKA_SASL_PASSWORD_FILE")
            if not username or not password:
                raise KafkaSecurityError(
                    f"CARELOG_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                    "CARELOG_KAFKA_SASL_USERNAME and CARELOG_KAFKA_SASL_PASSWORD "
                    "(or CARELOG_KAFKA_SASL_PASSWORD_FILE)"
                )
        files = {
            name: get(f"CARELOG_KAFKA_SSL_{name.upper()}")
            for name in ("cafile", "certfile", "keyfile")
        }
        key_password_file = get("CARELOG_KAFKA_SSL_KEY_PASSWORD_FILE")
        if not tls:
            given = [f"CARELOG_KAFKA_SSL_{n.upper()}" for n, v in files.items() if v]
            if key_password_file:
                given.append("CARELOG_KAFKA_SSL_KEY_PASSWORD_FILE")
            if given:
                raise KafkaSecurityError(
                    f"{', '.join(given)} set, but CARELOG_KAFKA_SECURITY_PROTOCOL is "
                    f"{protocol}: use SSL or SASL_SSL to use certificates"
                )
        if bool(files["certfile"]) != bool(files["keyfile"]):
            raise KafkaSecurityError(
                "Mutual TLS needs both CARELOG_KAFKA_SSL_CERTFILE and CARELOG_KAFKA_SSL_KEYFILE"
            )
        for name, value in files.items():
            if value and not Path(value).is_file():
                raise KafkaSecurityError(
                    f"CARELOG_KAFKA_SSL_{name.upper()}: no such file {value!r}"
                )
        key_password = (
            _first_line(key_password_file, "CARELOG_KAFKA_SSL_KEY_PASSWORD_FILE")
            if key_password_file
            else None
        )
        return cls(
            protocol=protocol,
            sasl_mechanism=mechanism if sasl else None,
            sasl_username=username if sasl else None,
            sasl_password=password if sasl else None,
            ssl_cafile=files["cafile"],
            ssl_certfile=files["certfile"],
            ssl_keyfile=files["keyfile"],
            ssl_key_password=key_password,
        )


def _first_line(path: str, setting: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KafkaSecurityError(f"{setting}: cannot read {path!r} ({exc.strerror})") from None
    line = text.splitlines()[0].strip() if text.strip() else ""
    if not line:
        raise KafkaSecurityError(f"{setting}: {path!r} is empty")
    return line


_warned: set[str] = set()


def _host(server: str) -> str:
    """The host of ``host:port`` / ``[v6]:port`` / ``host``."""
    server = server.strip()
    if server.startswith("["):
        return server[1:].split("]", 1)[0]
    return server.rsplit(":", 1)[0] if server.count(":") == 1 else server


def _is_local(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")
