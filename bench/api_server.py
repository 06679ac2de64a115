"""The API benchmark's server (``bench/api.py``): ``carelog serve`` (and, under gunicorn,
``carelog projections run`` beside it) in its own process group, until it answers.

This module has no ``run``: ``python -m bench`` does not run it on its own.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[int]:
    """``carelog serve`` on a free port in its own process group, until it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARELOG_")}
    env.update(
        CARELOG_DATABASE_URL=url,
        CARELOG_SECRET_KEY="bench",
        # As docker-compose deploys it: under gunicorn the views are kept by their own
        # worker process (one runner, not one per API worker); embedded, by the server.
        CARELOG_RUN_PROJECTIONS="0" if workers else "1",
        PYTHONPATH=str(REPO),
    )
    command = [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    processes = [_start(command, env)]
    if workers:
        processes.append(
            _start([sys.executable, "-m", "services.cli.main", "projections", "run"], env)
        )
    try:
        _wait_up(port, processes[0])
        yield port
    finally:
        for process in processes:
            _stop(process)


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the JSON access log: one line a request
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the master and its workers
        process.wait(timeout=30)


def _wait_up(port: int, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the API did not come up")
