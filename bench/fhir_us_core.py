"""US Core 6.1.0 errors and base R4 invariant failures of the demo's FHIR exports, by type.

``python -m bench.fhir_us_core [patients]`` seeds the demo into a fresh SQLite store, exports
every demo patient (with progress notes, as now and as in effect at the last moment), and
prints, per resource type, how many resources the exports hold, how many break the US Core
profile they declare or a receiver would hold them to (``tests/fhir_conformance.py``; "beyond
meta": an error other than a missing ``meta.profile``) and how many break a base R4
invariant of the resource or of a datatype in it (``tests/fhir_r4_invariants.py``; the
bundle's own ``bdl-*`` count under Bundle), with the most frequent errors. The issue's
closing note quotes its before/after counts.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from services.bootstrap import CareLog
from services.cli.demo_data import seed
from services.config import Config
from services.interop.fhir import build_bundle
from tests.fhir_conformance import BUNDLE, errors_of
from tests.fhir_r4_invariants import bundle_r4_errors, r4_errors


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
            r4_failing: Counter[str] = Counter()
            substantive: Counter[str] = Counter()
            reasons: Counter[str] = Counter()
            for patient_id in ids:
                for clock in ({}, {"effective_at": datetime.now(UTC)}):
                    bundle = build_bundle(
                        carelog.history, patient_id, include_progress_notes=True, **clock
                    )
                    totals.update(e["resource"]["resourceType"] for e in bundle["entry"])
                    totals["Bundle"] += 1
                    BUNDLE.clear()
                    BUNDLE.update({e["fullUrl"]: e["resource"] for e in bundle["entry"]})
                    for entry in bundle["entry"]:
                        resource = entry["resource"]
                        kind = resource["resourceType"]
                        errors = errors_of(resource)
                        if errors:
                            failing[kind] += 1
                        if any(not e.startswith("does not declare") for e in errors):
                            substantive[kind] += 1
                        broken = r4_errors(resource)
                        if broken:
                            r4_failing[kind] += 1
                        reasons.update(f"{kind}: {_shape(e)}" for e in errors + broken)
                    if own := bundle_r4_errors(bundle):
                        r4_failing["Bundle"] += 1
                        reasons.update(f"Bundle: {_shape(e)}" for e in own)
        finally:
            carelog.close()
    print(
        f"{'resource type':<24}{'resources':>10}{'US Core':>10}{'beyond meta':>13}"
        f"{'R4 invariants':>15}"
    )
    for kind in sorted(totals):
        print(
            f"{kind:<24}{totals[kind]:>10}{failing[kind]:>10}{substantive[kind]:>13}"
            f"{r4_failing[kind]:>15}"
        )
    print(
        f"{'total':<24}{sum(totals.values()):>10}{sum(failing.values()):>10}"
        f"{sum(substantive.values()):>13}{sum(r4_failing.values()):>15}"
    )
    for reason, count in reasons.most_common(25):
        print(f"{count:>6}  {reason[:150]}")
    return 0


def _shape(error: str) -> str:
    """An error without its instance values, so equal errors count together."""
    return re.sub(r"found .*$", "found ...", error)


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
