"""``carelog projections run|rebuild|status|skip``: operating the views.

``run`` is a foreground worker (start several for scale-out: each batch is exactly-once
however many run), its garbage collector tuned as the relay's is, that also signs an
audit checkpoint every CARELOG_CHECKPOINT_INTERVAL seconds (several workers take turns on
the checkpoint directory's lock); ``rebuild`` builds a view from zero beside the live one
with a progress bar and swaps it in atomically; ``status`` shows position, lag and
quarantined events (``--json`` for scripts: exit code 3 when something is quarantined);
``skip`` moves a view past a quarantined event, recorded in the audit trail with the
reason.
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
from typing import Any

from domain.errors import InvalidInputError
from services.bootstrap import CareLog
from services.cli.command_group import command_group

QUARANTINED_EXIT = 3


def register(subparsers: Any) -> None:
    sub = command_group(subparsers, "projections", "run, rebuild and inspect the views")

    run = sub.add_parser("run", help="follow the log in the foreground (a view worker)")
    run.add_argument("names", nargs="*", metavar="NAME", help="views to run (default: all)")
    run.set_defaults(func=_run)

    rebuild = sub.add_parser(
        "rebuild", help="rebuild views from zero, each beside its live one, then swap them in"
    )
    rebuild.add_argument(
        "names", nargs="+", metavar="NAME", help="one or more views (several: side by side)"
    )
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="views rebuilt at once, each in its own process (default: one per view)",
    )
    rebuild.set_defaults(func=_rebuild)

    status = sub.add_parser("status", help="position, lag and quarantined events per view")
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.set_defaults(func=_status)

    skip = sub.add_parser("skip", help="move a view past its quarantined event (audited)")
    skip.add_argument("name")
    skip.add_argument("position", type=int)
    skip.add_argument("--reason", required=True, help="why it is safe to skip")
    skip.add_argument("--actor", default=None, help="who decides (default: cli:<login name>)")
    skip.set_defaults(func=_skip)


def _run(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.feeds.relay import tune_collector

    # The worker is the views and nothing else: like the relay it makes and drops tens of
    # thousands of small objects a second (decoded events, rows, JSON), none of them
    # cycles worth finding early; at Python's default thresholds collections took a tenth
    # to a third of a view's catch-up (bench/views.py).
    tune_collector()
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    names = args.names or None
    interval = carelog.config.checkpoint_interval
    checkpoints = f"; audit checkpoints every {interval:g}s" if interval > 0 else ""
    print(
        f"carelog: following the log for {', '.join(names or carelog.views.views)}"
        f"{checkpoints} (Ctrl-C to stop)",
        file=sys.stderr,
        flush=True,
    )
    carelog.views.run(names, stop)
    return 0


def _rebuild(args: argparse.Namespace, carelog: CareLog) -> int:
    """One JSON line per view rebuilt; several views run side by side (cli/view_rebuild)."""
    from services.cli.view_rebuild import default_jobs, rebuild_views

    names = list(dict.fromkeys(args.names))
    for name in names:
        carelog.views.view(name)  # an unknown name is refused before any work starts
    if args.jobs is not None and args.jobs < 1:
        raise InvalidInputError("--jobs must be 1 or more.", "jobs")
    jobs = default_jobs(names) if args.jobs is None else args.jobs
    if len(names) == 1 or jobs == 1:
        for name in names:
            print(json.dumps(carelog.views.rebuild(name, progress=not args.quiet)), flush=True)
        return 0
    failed = 0
    for rebuilt in rebuild_views(carelog.config, names, jobs):
        if rebuilt.result is not None:
            print(json.dumps(rebuilt.result), flush=True)
        else:
            failed += 1
            print(
                f"carelog: rebuilding {rebuilt.view} failed, its live view is unchanged: "
                f"{rebuilt.error}",
                file=sys.stderr,
            )
    return 1 if failed else 0


def _status(args: argparse.Namespace, carelog: CareLog) -> int:
    rows = carelog.views.status()
    stuck = any(row["quarantined"] for row in rows)
    if args.json:
        print(json.dumps({"views": rows}, default=str, indent=2))
        return QUARANTINED_EXIT if stuck else 0
    print(f"{'view':<16} {'position':>10} {'head':>10} {'lag':>8} {'lag s':>9}  state")
    for row in rows:
        print(
            f"{row['name']:<16} {row['position']:>10} {row['head']:>10} "
            f"{row['lag_events']:>8} {row['lag_seconds']:>9.3f}  {row['state']}"
        )
        for item in row["quarantined"]:
            print(
                f"  quarantined: {item['stream']} position {item['position']} "
                f"({item['topic']}), {item['attempts']} attempt(s): {item['error']}"
            )
            print(
                f"    fix the code and restart, or: carelog projections skip {row['name']} "
                f"{item['position']} --reason '...'"
            )
        if row["runner_error"]:
            print(f"  runner: {row['runner_error']}")
    return QUARANTINED_EXIT if stuck else 0


def _skip(args: argparse.Namespace, carelog: CareLog) -> int:
    actor = args.actor or f"cli:{getpass.getuser()}"
    result = carelog.views.skip(args.name, args.position, args.reason, actor, source="cli")
    print(json.dumps(result))
    return 0
