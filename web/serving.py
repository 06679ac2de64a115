"""Serving the app: gunicorn by default (``carelog serve``), Werkzeug's development server
only when asked for (``carelog serve --dev``).

On SQLite gunicorn runs one worker process with many threads: SQLite takes one writer at a
time whatever the process count, and one process keeps one view runner, one record cache
and one group committer. On PostgreSQL it runs ``--workers`` processes (default 2), each
with its own CareLog built from the environment and 8 threads (an open event stream holds
a thread). A page-session key is read (or made once and kept beside the store:
``services/access/session_key.py``) in the master when none is configured, so every worker reads
the same session cookie and a restart does not sign the pages' users out.

Each request is logged once, by CareLog's own JSON request log (``web.create_app``): the
path and never the query string. gunicorn's access log is off and Werkzeug's request lines
are silenced, and neither server names its version in the ``Server`` header.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from services.access import session_key
from services.bootstrap import CareLog
from web import server_errors

SQLITE_THREADS = 32
"""Threads of the one SQLite worker: every open page holds one for its live feed."""
POSTGRES_THREADS = 8
DEFAULT_POSTGRES_WORKERS = 2


def serve(
    carelog: CareLog,
    *,
    host: str,
    port: int,
    workers: int = 0,
    threads: int = 0,
    dev: bool = False,
) -> int:
    carelog.pack  # noqa: B018 - a malformed rule pack stops start-up before any worker
    if dev:
        return _development(carelog, host, port)
    if carelog.config.is_postgres:
        processes = workers or DEFAULT_POSTGRES_WORKERS
        per_process = threads or POSTGRES_THREADS
    else:
        if workers > 1:
            print(
                f"carelog serve: SQLite is served by one process ({threads or SQLITE_THREADS} "
                f"threads), not {workers}: it takes one writer at a time.",
                file=sys.stderr,
            )
        processes, per_process = 1, threads or SQLITE_THREADS
    if not carelog.config.secret_key:  # one key for every worker, kept across restarts
        os.environ["CARELOG_SECRET_KEY"] = session_key.load_or_create(carelog.config)
    _prepare_stores(carelog)
    _announce(host, port, f"gunicorn, {processes} process(es) x {per_process} threads")
    return _gunicorn(host, port, processes, per_process)


def _prepare_stores(carelog: CareLog) -> None:
    """Create (or migrate) every table once, in the master, before the workers start:
    workers that each create a fresh store's tables at the same moment collide in
    PostgreSQL's catalogue. A CareLog of its own, closed again, so that no connection
    is inherited by the forked workers."""
    prepared = CareLog(carelog.config)
    try:
        prepared.prepare_schema()
    finally:
        prepared.close()


def _announce(host: str, port: int, how: str) -> None:
    print(
        f"CareLog API on http://{host}:{port}  (docs: http://{host}:{port}/docs)  [{how}]",
        file=sys.stderr,
        flush=True,
    )


def _development(carelog: CareLog, host: str, port: int) -> int:
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from web import create_app

    class QuietHandler(WSGIRequestHandler):
        """No version in ``Server``; no request line (CareLog logs each request once)."""

        def version_string(self) -> str:
            return "CareLog"

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    app = create_app(carelog=carelog)
    _announce(host, port, "development server")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, request_handler=QuietHandler)
    finally:
        views = getattr(carelog, "views", None)
        if views is not None:
            views.stop()
    return 0


def _gunicorn(host: str, port: int, workers: int, threads: int) -> int:
    """gunicorn with N workers; each worker builds its own CareLog from the environment."""
    from gunicorn.app.base import BaseApplication

    class CareLogGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)  # CareLog's request log is the only one
            self.cfg.set("umask", 0o077)
            self.cfg.set("limit_request_line", server_errors.REQUEST_LINE_LIMIT)
            # Ctrl-C (SIGINT/SIGQUIT in the worker): end the open live feeds, whose threads
            # would otherwise hold the exiting worker until the graceful timeout.
            self.cfg.set("worker_int", _end_open_streams)
            if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25
                # No runtime control socket (one path per user: two servers would share it).
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            from web import create_app

            return create_app()

    server_errors.install()
    CareLogGunicorn().run()
    return 0


def _end_open_streams(worker: Any) -> None:
    from web.feed import end_open_streams

    end_open_streams()
