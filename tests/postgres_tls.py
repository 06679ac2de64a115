"""A throwaway PostgreSQL cluster that accepts TLS only, for the TLS tests.

``initdb`` into a temporary folder, a server certificate from the test's CA, ``ssl=on``,
and a pg_hba.conf that admits TCP clients only over TLS and only with a client
certificate the CA issued (``hostssl ... clientcert=verify-ca``; ``hostnossl ...
reject``). A connection that did not do TLS, or did it without the client certificate,
is refused by the server: a test that gets through used both. The cluster listens on
127.0.0.1 and a free port, its socket in its own folder, and is stopped and deleted by
the fixture. As root, the server runs as the ``postgres`` OS user (``initdb`` refuses
root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.kafka_broker import free_port
from tests.tls_support import CertificateAuthority


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(candidates[-1]).parent if candidates else None


@dataclass
class TlsCluster:
    port: int
    folder: Path
    bin: Path
    owner: str | None  # the OS user the server runs as when this process is root

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def _run(self, *args: str) -> None:
        command = [str(a) for a in args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self, ca: CertificateAuthority) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.owner:
            os.chown(self.folder, *_ids(self.owner))
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        for source, name, mode in (
            (ca.server_cert, "server.crt", 0o644),
            (ca.server_key, "server.key", 0o600),
            (ca.ca, "root.crt", 0o644),
        ):
            target = self.data / name
            shutil.copyfile(source, target)
            target.chmod(mode)
            if self.owner:
                os.chown(target, *_ids(self.owner))
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# CareLog TLS test cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.data}'\n"
                "ssl = on\n"
                "ssl_cert_file = 'server.crt'\n"
                "ssl_key_file = 'server.key'\n"
                "ssl_ca_file = 'root.crt'\n"
                "fsync = off\n"
                "max_connections = 60\n"
            )
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 trust clientcert=verify-ca\n"
            "hostnossl all all 0.0.0.0/0 reject\n",
            encoding="utf-8",
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def new_cluster(bin_folder: Path) -> TlsCluster:
    """A cluster description in a fresh folder the server's OS user can write."""
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root needs a 'postgres' OS user for initdb") from exc
        owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="carelog-pgtls-"))
    folder.chmod(0o755)
    return TlsCluster(port=free_port(), folder=folder, bin=bin_folder, owner=owner)
