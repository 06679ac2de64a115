"""``carelog relay`` and ``carelog feed follow``: the Kafka side of the feeds.

``relay`` runs until SIGTERM or Ctrl-C (one per store: a second one exits with status 1, or
with ``--standby`` waits to take over);
``relay --status`` prints how far it trails the log (a container healthcheck).
``feed follow`` prints one line per message of a role's feed, as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import Any

from domain.actor import Role
from services.bootstrap import CareLog
from services.cli.command_group import command_group
from services.feeds.feed_contract import ENVELOPE_DATA

STANDBY_POLL = 2.0
"""Seconds between a standby relay's attempts to take the store's lock."""


def register(subparsers: Any) -> None:
    relay = subparsers.add_parser(
        "relay", help="publish the log's feed events to Kafka (CARELOG_KAFKA_BOOTSTRAP)"
    )
    relay.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="events per acknowledged batch (default CARELOG_RELAY_BATCH_SIZE)",
    )
    relay.add_argument(
        "--standby",
        action="store_true",
        help="if another relay runs on this store, wait and take over when "
        "it stops (instead of exiting with status 1)",
    )
    relay.add_argument(
        "--status",
        action="store_true",
        help="print the tracked position and the lag behind the log as JSON, "
        "then exit (1 if the lag exceeds --max-lag)",
    )
    relay.add_argument(
        "--max-lag",
        type=int,
        default=None,
        metavar="N",
        help="with --status: positions the relay may trail the log by",
    )
    relay.set_defaults(func=_relay)

    feed_commands = command_group(
        subparsers, "feed", "follow a role's feed on Kafka", metavar="SUBCOMMAND"
    )
    follow = feed_commands.add_parser("follow", help="print a role's feed, one line a message")
    follow.add_argument("--role", required=True, choices=[str(r) for r in Role])
    follow.add_argument(
        "--group", default=None, help="consumer group id (default carelog-feed-ROLE)"
    )
    follow.add_argument("--json", action="store_true", help="print each CloudEvent as JSON")
    follow.add_argument(
        "--from-beginning",
        action="store_true",
        help="a new group starts at the oldest message, not the next one",
    )
    follow.set_defaults(func=_follow)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _bootstrap(carelog: CareLog) -> str | None:
    if not carelog.config.kafka_bootstrap:
        print(
            "carelog: set CARELOG_KAFKA_BOOTSTRAP to the Kafka brokers (host:port)", file=sys.stderr
        )
    return carelog.config.kafka_bootstrap


def _relay(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.feeds.relay import Relay, RelayLockedError, tune_collector

    if _bootstrap(carelog) is None:
        return 2
    if args.status:
        relay = Relay(carelog)
        tracked = relay.position
        head = int(carelog.app.recorder.max_notification_id() or 0)
        print(json.dumps({"tracked": tracked, "head": head, "lag": head - tracked}))
        return 1 if args.max_lag is not None and head - tracked > args.max_lag else 0
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = _stop_on_signals()
    tune_collector()  # this process is the relay and nothing else
    while not stop.is_set():
        try:
            Relay(carelog, batch_size=args.batch_size).run_forever(stop)
        except RelayLockedError as exc:
            if not args.standby:
                print(f"carelog: {exc}", file=sys.stderr)
                return 1
            stop.wait(STANDBY_POLL)
    return 0


def _follow(args: argparse.Namespace, carelog: CareLog) -> int:
    from services.feeds.subscriber import FeedSubscriber

    bootstrap = _bootstrap(carelog)
    if bootstrap is None:
        return 2
    carelog.config.kafka_security.warn_if_insecure(bootstrap)
    try:
        subscriber = FeedSubscriber(
            bootstrap,
            args.role,
            group_id=args.group,
            client_id=carelog.config.kafka_client_id,
            from_beginning=args.from_beginning,
            security=carelog.config.kafka_security,
        )
    except ValueError as exc:
        print(f"carelog: {exc}", file=sys.stderr)
        return 2
    stop = _stop_on_signals()

    def show(message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":")) if args.json else describe(message)
        print(line, flush=True)

    try:
        subscriber.run(show, stop)
    except BrokenPipeError:  # `carelog feed follow ... | head`
        pass
    finally:
        subscriber.close()
    return 0


def describe(message: dict[str, Any]) -> str:
    """One readable line: recorded time, type, patient, position, then the data fields."""
    data = message.get("data") or {}
    fields = " ".join(f"{k}={_plain(v)}" for k, v in data.items() if k not in ENVELOPE_DATA)
    return (
        f"{message.get('time')} {message.get('type')} patient={message.get('subject')} "
        f"position={data.get('position')} {fields}"
    ).rstrip()


def _plain(value: Any) -> str:
    if isinstance(value, dict) and set(value) >= {"amount", "unit"}:
        return f"{value['amount']}{value['unit']}"
    if isinstance(value, str):
        return json.dumps(value) if " " in value else value
    return json.dumps(value, separators=(",", ":"))
