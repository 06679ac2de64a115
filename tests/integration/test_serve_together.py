"""Servers started together on one PostgreSQL database (red-team F7): each creates its
tables under the schema advisory lock (services/storage/schema_lock.py), so none dies at boot
with "tuple concurrently updated"."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.integration.served import CARELOG, _free_port, environment

pytestmark = pytest.mark.served  # real carelog processes: make test runs these, test-quick not


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


class TestServersStartedTogether:
    def test_three_servers_started_at_once_on_a_fresh_store_all_answer_healthz(
        self, store: str, tmp_path: Path
    ) -> None:
        if not store.startswith("postgresql"):
            pytest.skip("about PostgreSQL's catalogue; SQLite takes one writer at a time")
        env = environment(store, tmp_path)
        ports = [_free_port() for _ in range(3)]
        logs = [(tmp_path / f"serve-{port}.log").open("wb") for port in ports]
        processes = [
            subprocess.Popen(
                [CARELOG, "serve", "--port", str(port), "--workers", "2"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for port, log in zip(ports, logs, strict=True)
        ]
        try:
            waiting = {f"http://127.0.0.1:{port}" for port in ports}
            deadline = time.monotonic() + 90
            while waiting and time.monotonic() < deadline:
                waiting = {url for url in waiting if not healthy(url)}
                assert all(p.poll() is None for p in processes), self.logs(tmp_path)
                time.sleep(0.2)
            assert not waiting, self.logs(tmp_path)
            time.sleep(1)  # every worker has booted by now, or died trying
            assert all(p.poll() is None for p in processes), self.logs(tmp_path)
            text = self.logs(tmp_path)
            assert "Worker failed to boot" not in text, text
            assert "concurrently updated" not in text, text
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            for log in logs:
                log.close()

    @staticmethod
    def logs(tmp_path: Path) -> str:
        return "\n".join(p.read_text(errors="replace") for p in tmp_path.glob("serve-*.log"))
