"""``carelog users add|list|deactivate``: staff accounts and their tokens."""

from __future__ import annotations

import argparse
import json
from typing import Any

from domain.actor import Role
from services.bootstrap import CareLog
from services.cli.command_group import command_group


def register(subparsers: Any) -> None:
    sub = command_group(subparsers, "users", "manage staff accounts and API tokens")

    add = sub.add_parser("add", help="add a staff member; prints one JSON line with the token")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument(
        "--prescriber",
        action="store_true",
        help="collaborative-practice prescribing privilege (pharmacists)",
    )
    add.set_defaults(func=_add)

    listing = sub.add_parser("list", help="list staff members (never tokens)")
    listing.set_defaults(func=_list)

    deactivate = sub.add_parser("deactivate", help="revoke a staff member's access")
    deactivate.add_argument("id")
    deactivate.set_defaults(func=_deactivate)


def _add(args: argparse.Namespace, carelog: CareLog) -> int:
    member, token = carelog.staff.add(args.name, args.role, args.prescriber)
    print(
        json.dumps(
            {
                "id": member.id,
                "name": member.name,
                "role": str(member.role),
                "prescriber": member.actor.may_prescribe,
                "token": token,
            }
        )
    )
    return 0


def _list(args: argparse.Namespace, carelog: CareLog) -> int:
    for member in carelog.staff.list():
        print(json.dumps(member.as_dict()))
    return 0


def _deactivate(args: argparse.Namespace, carelog: CareLog) -> int:
    carelog.staff.deactivate(args.id)
    print(json.dumps({"id": args.id, "active": False}))
    return 0
