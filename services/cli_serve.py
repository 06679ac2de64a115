"""``carelog serve``: the HTTP API (and pages) on the embedded server or under gunicorn."""

from __future__ import annotations

import argparse
from typing import Any

from services.bootstrap import CareLog


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run under gunicorn with N worker processes (production mode)",
    )
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace, carelog: CareLog) -> int:
    from web.serving import serve

    return serve(carelog, host=args.host, port=args.port, workers=args.workers)
