"""``carelog demo``: seed the synthetic demo and show one patient's plan under both clocks."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.bootstrap import CareLog
from services.reading.history import History

if TYPE_CHECKING:
    from domain.plan import PlanState


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="seed synthetic demo data (idempotent)")
    demo.add_argument("--patients", type=int, default=20)
    demo.add_argument("--quiet", action="store_true", help="no progress bar, no plan summary")
    demo.add_argument(
        "--rotate-tokens",
        action="store_true",
        help="issue the demo staff new tokens (the old ones stop working at once); "
        "without it a re-run prints the same tokens",
    )
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace, carelog: CareLog) -> int:
    result = seed_with_summary(carelog, args.patients, not args.quiet, args.rotate_tokens)
    for entry in result["staff"].values():
        print(json.dumps(entry))
    return 0


def seed_with_summary(
    carelog: CareLog, patients: int, verbose: bool, rotate_tokens: bool = False
) -> dict[str, Any]:
    from services.cli.demo_data import seed

    result = seed(carelog, patients, show_progress=verbose, rotate_tokens=rotate_tokens)
    if verbose and result["patients"]:
        print(f"Seeded {result['created']} new demo patients ({patients} in all).")
        show_two_clocks(carelog.history, str(result["patients"][0]))
    return result


def _medications(state: PlanState) -> str:
    meds = [
        f"{o.drug['name']} {o.steps[-1].dose['amount']:g} "
        f"{o.steps[-1].dose['unit']} {o.steps[-1].frequency}"
        for o in state.orders.values()
        if o.status == "active"
    ]
    return ", ".join(meds) or "no active medication"


def show_two_clocks(history: History, patient_id: str) -> None:
    """Print one patient's plan as known at three moments and as in effect at one."""
    events = history.events(patient_id)
    first, last = events[0].timestamp, events[-1].timestamp
    moments = [first + (last - first) * f for f in (0.15, 0.5, 1.0)]
    print(f"\nPatient {patient_id} ({events[0].name}), {len(events)} events:")
    for moment in moments:
        known = history.known_at(patient_id, moment)
        phq = [a.total for a in known.state.assessments if a.instrument == "PHQ-9"]
        print(
            f"  as known at  {_fmt(moment)}: v{known.version:<3} {_medications(known.state)};"
            f" PHQ-9 {phq[-1] if phq else '-'}"
        )
    earlier = moments[1]
    effect = history.in_effect_at(patient_id, earlier)
    print(f"  in effect at {_fmt(earlier)} (as known now): {_medications(effect.state)}")


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
