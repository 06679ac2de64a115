"""``carelog serve``: the HTTP API (and pages) under gunicorn, or on Werkzeug's
development server with ``--dev``."""

from __future__ import annotations

import argparse
from typing import Any

from services.bootstrap import CareLog


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the HTTP API and the pages")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=0,
        help="gunicorn worker processes on PostgreSQL (default 2); SQLite is served by one",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per worker (default 32 on SQLite, 8 on PostgreSQL)",
    )
    serve.add_argument(
        "--dev",
        action="store_true",
        help="Werkzeug's development server in this process instead of gunicorn",
    )
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace, carelog: CareLog) -> int:
    serve = carelog.server()  # web is found by name at the root: nothing here imports it
    return serve(
        carelog,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        dev=args.dev,
    )
