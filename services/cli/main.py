"""The ``carelog`` command: one entry point, one module per group of subcommands.

Each module in ``COMMAND_MODULES`` has ``register(subparsers)``, which adds its
subcommands and sets ``func(args, carelog) -> int`` on them. The CareLog object is built
from the environment once, here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from domain.errors import CareLogError
from domain.safety import RulePackError
from services.bootstrap import CareLog
from services.storage.store_errors import EventStoreUnreachableError

COMMAND_MODULES = (
    "services.cli.users",
    "services.cli.demo",
    "services.cli.serve",
    "services.cli.integrity",
    "services.cli.feeds",
    "services.cli.projections",
    "services.cli.export",
    "services.cli.backup",
    "services.cli.keys",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carelog",
        description="CareLog: event-sourced care coordination for mental-health medication.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous_umask = os.umask(0o077)  # every file carelog creates is its owner's alone
    carelog = CareLog()
    try:
        return int(args.func(args, carelog) or 0)
    except CareLogError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"carelog: {exc.message}{where}", file=sys.stderr)
        return 2
    except RulePackError as exc:
        print(f"carelog: the clinical rule pack is malformed: {exc}", file=sys.stderr)
        return 2
    except EventStoreUnreachableError as exc:
        print(f"carelog: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        carelog.close()
        os.umask(previous_umask)


if __name__ == "__main__":
    sys.exit(main())
