"""A ``carelog`` command made of sub-commands (``carelog keys ...``, ``carelog export ...``)."""

from __future__ import annotations

from typing import Any


def command_group(subparsers: Any, name: str, summary: str, metavar: str = "ACTION") -> Any:
    """Add ``carelog NAME`` and return its sub-command parsers; one must be given (argparse
    would otherwise run the bare group, which has nothing to do). The choice lands in
    ``args.NAME_command``."""
    group = subparsers.add_parser(name, help=summary)
    commands = group.add_subparsers(dest=f"{name}_command", metavar=metavar)
    commands.required = True
    return commands
