"""Synthetic demo data: a care team and 20 patients with months-long histories.

Everything here is invented (names from a fixed synthetic list, MRNs ``DEMO-0001`` ...).
Each patient's course is generated from a seeded random source, so two runs produce the
same kind of history; seeding is idempotent (existing demo patients are left alone, and
the demo staff keep their ids and tokens: services/access/demo_tokens.py says where the tokens
are kept and why; ``rotate_tokens`` issues new ones). Writes go through the real command path with a
simulated clock, so recorded times spread over the months the story covers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.errors import CareLogError
from services.bootstrap import CareLog
from services.cli.demo_staff import ensure_staff
from services.cli.demo_story import Story
from services.cli.progress import ProgressBar


def seed(
    carelog: CareLog, patients: int = 20, show_progress: bool = True, rotate_tokens: bool = False
) -> dict[str, Any]:
    """Seed the demo (idempotently); returns the staff tokens and the demo patients' ids."""
    staff = ensure_staff(carelog, rotate_tokens)
    bar = ProgressBar(patients, "patients") if show_progress else None
    now = datetime.now(UTC)
    created = 0
    for number in range(1, patients + 1):
        if carelog.app.find_by_external_id(f"DEMO-{number:04d}") is None:
            start = now - timedelta(days=150 - number)
            try:
                Story(carelog, staff, number, start).tell()
            except CareLogError as exc:  # a demo story must never leave the seed half-done
                raise SystemExit(f"demo patient {number} failed: {exc.message}") from exc
            created += 1
        if bar:
            bar.advance()
    if bar:
        bar.close()
    ids = [carelog.app.find_by_external_id(f"DEMO-{n:04d}") for n in range(1, patients + 1)]
    return {"staff": staff.tokens, "patients": ids, "created": created}
