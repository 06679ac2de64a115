"""A TLS-terminating TCP proxy on a loopback port, in front of a plaintext server.

The test broker (tansu 0.6.0) offers ``--cert``/``--key`` but its listener does no TLS
handshake (and refuses the two options together), so the Kafka TLS tests put this in front
of it: the client does a real TLS handshake (server certificate checked against the test
CA, hostname checked, optionally its own certificate required) and real Kafka traffic
flows to a real broker behind it. ``handshakes`` counts completed handshakes, so a test
can tell that TLS was actually used (a plaintext client never completes one).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from pathlib import Path

from tests.kafka_broker import free_port


class TlsProxy:
    """``start()`` listens on ``port``; each TLS connection is piped to ``target``."""

    def __init__(
        self,
        target: tuple[str, int],
        cert: Path,
        key: Path,
        *,
        client_ca: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.target = target
        self.port = port or free_port()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(cert, key)
        if client_ca is not None:  # mutual TLS: a client without a certificate is refused
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(client_ca)
        self.handshakes = 0
        self.client_subjects: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the TLS proxy did not start")

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(
                self._handle,
                "127.0.0.1",
                self.port,
                ssl=self.context,
                ssl_handshake_timeout=10,
            )
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        peer = writer.get_extra_info("peercert")
        if peer:
            subject = dict(item for rdn in peer.get("subject", ()) for item in rdn)
            self.client_subjects.append(str(subject.get("commonName")))
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
