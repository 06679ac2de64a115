"""US Core 6.1.0 errors of the demo's FHIR exports, by resource type.

``python -m bench.fhir_us_core [patients]`` seeds the demo into a fresh SQLite store, exports
every demo patient (with progress notes, as now and as in effect at the last moment), and
prints, per resource type, how many resources the exports hold and how many break the
US Core profile they declare or a receiver would hold them to (``tests/fhir_conformance.py``),
with the most frequent errors ("beyond meta": resources with an error other than a missing
``meta.profile``). The issue's closing note quotes its before/after counts.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from services.bootstrap import CareLog
from services.config import Config
from services.demo import seed
from services.fhir import build_bundle
from tests.fhir_conformance import bundle_errors


def main(patients: int = 4) -> int:
    with tempfile.TemporaryDirectory() as folder:
        carelog = CareLog(
            Config(
                database_url=f"sqlite:///{Path(folder) / 'carelog.db'}",
                checkpoint_dir=str(Path(folder) / "checkpoints"),
                run_projections=False,
                group_commit_ms=0,
                secret_key="bench",
            )
        )
        try:
            ids = [
                str(p) for p in seed(carelog, patients=patients, show_progress=False)["patients"]
            ]
            totals: Counter[str] = Counter()
            failing: Counter[str] = Counter()
            substantive: Counter[str] = Counter()
            reasons: Counter[str] = Counter()
            for patient_id in ids:
                for clock in ({}, {"effective_at": datetime.now(UTC)}):
                    bundle = build_bundle(
                        carelog.history, patient_id, include_progress_notes=True, **clock
                    )
                    totals.update(e["resource"]["resourceType"] for e in bundle["entry"])
                    for key, errors in bundle_errors(bundle).items():
                        kind = key.split("/", 1)[0]
                        failing[kind] += 1
                        if any(not e.startswith("does not declare") for e in errors):
                            substantive[kind] += 1
                        reasons.update(f"{kind}: {_shape(e)}" for e in errors)
        finally:
            carelog.close()
    print(f"{'resource type':<24}{'resources':>10}{'with errors':>13}{'beyond meta':>13}")
    for kind in sorted(totals):
        print(f"{kind:<24}{totals[kind]:>10}{failing[kind]:>13}{substantive[kind]:>13}")
    print(
        f"{'total':<24}{sum(totals.values()):>10}{sum(failing.values()):>13}"
        f"{sum(substantive.values()):>13}"
    )
    for reason, count in reasons.most_common(25):
        print(f"{count:>6}  {reason[:150]}")
    return 0


def _shape(error: str) -> str:
    """An error without its instance values, so equal errors count together."""
    return re.sub(r"found .*$", "found ...", error)


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
