"""Serving the app: Werkzeug's threaded server for the embedded default, gunicorn for
production (``carelog serve --workers N``)."""

from __future__ import annotations

import sys
from typing import Any

from services.bootstrap import CareLog


def serve(carelog: CareLog, *, host: str, port: int, workers: int = 0) -> int:
    carelog.pack  # noqa: B018 - a malformed rule pack stops start-up before any worker
    if workers > 0:
        return _gunicorn(host, port, workers)
    from werkzeug.serving import run_simple

    from web import create_app

    app = create_app(carelog=carelog)
    print(
        f"CareLog API on http://{host}:{port}  (docs: http://{host}:{port}/docs)",
        file=sys.stderr,
        flush=True,
    )
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        views = getattr(carelog, "views", None)
        if views is not None:
            views.stop()
    return 0


def _gunicorn(host: str, port: int, workers: int) -> int:
    """gunicorn with N workers; each worker builds its own CareLog from the environment."""
    from gunicorn.app.base import BaseApplication

    class CareLogGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            from web import create_app

            return create_app()

    CareLogGunicorn().run()
    return 0
