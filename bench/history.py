"""History: a 10,000-event patient at a version, as known at T and in effect at T.

On SQLite and PostgreSQL (``CARELOG_BENCH_HISTORY_STORES``), one patient is given
``CARELOG_BENCH_HISTORY_EVENTS`` events (default 10,000) through the domain's own
commands on a simulated clock spread over five years, saved 500 at a time: weekly PHQ-9s
and GAD-7s, dose changes, side effects (one in four entered late, days after the fact),
progress notes and lab results. Then ``CARELOG_BENCH_HISTORY_QUERIES`` queries of each kind
(default 20) at random versions and times, repeated ``CARELOG_BENCH_HISTORY_REPEAT`` times
(default 5): ``History.at_version`` (the library's snapshots, every 50 events: the
reference), ``known_at``, ``in_effect_at`` and the bitemporal
``in_effect_at(T2, known_at=T1)``, each answered from the process's timeline of the patient
(plan checkpoints every 256 events in both orders, brought up to date from the log before
every query). The same run times the first query of a process that holds nothing of the
patient yet (it reads the whole stream and builds the checkpoints), the raw read of the
whole stream (``events.get``, decode included) and the straight fold of the whole stream
that every query paid before the checkpoints.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from bench.__main__ import Report
from bench._support import bench_carelog, percentile, sized, stores
from bench.views_log import places
from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from services.bootstrap import CareLog
from services.reading.history import History, replay_in_effect_at
from tests.patient_writes import prescribe, register

STORES = stores("HISTORY")
EVENTS = sized("CARELOG_BENCH_HISTORY_EVENTS", 300, 10000)
QUERIES = sized("CARELOG_BENCH_HISTORY_QUERIES", 3, 20)
REPEAT = sized("CARELOG_BENCH_HISTORY_REPEAT", 1, 5)
SAVE_EVERY = 500


def long_history(carelog: CareLog, events: int) -> tuple[str, datetime, datetime]:
    """A patient with about ``events`` events; returns its id and the first and last time."""
    staff = carelog.staff
    psychiatrist = staff.add("History Psychiatrist", "psychiatrist", False)[0].actor
    therapist = staff.add("History Therapist", "therapist", False)[0].actor
    rng = random.Random(9)
    start = datetime.now(UTC) - timedelta(days=5 * 365)
    step = timedelta(days=5 * 365) / max(events, 1)
    clock = start

    def ctx(actor: Any) -> CommandContext:
        return CommandContext(actor=actor, now=clock)

    pid = register(carelog, ctx(psychiatrist), "HIST-0001", "Long History", "1970-05-05")
    carelog.commands.execute(
        ctx(psychiatrist), pid, c.AssignCareTeamMember(clinician_id=therapist.id, role="therapist")
    )
    prescribe(
        carelog,
        ctx(psychiatrist),
        pid,
        dose=Dose(50.0, "mg"),
        indication="Major depressive disorder",
    )
    record = carelog.app.get_record(pid)
    order = next(iter(record.plan.orders))
    dose = 50.0
    while record.version < events:
        for _ in range(SAVE_EVERY):
            clock += step
            roll = rng.random()
            if roll < 0.45:
                items = [rng.randint(0, 2) for _ in range(8)] + [0]
                record.record_assessment(
                    ctx(therapist), c.RecordAssessment(instrument="PHQ-9", item_scores=items)
                )
            elif roll < 0.70:
                items = [rng.randint(0, 2) for _ in range(7)]
                record.record_assessment(
                    ctx(therapist), c.RecordAssessment(instrument="GAD-7", item_scores=items)
                )
            elif roll < 0.78:
                dose = 100.0 if dose == 50.0 else 50.0
                record.change_dose(
                    ctx(psychiatrist),
                    c.ChangeDose(
                        order_id=order, dose=Dose(dose, "mg"), reason="Synthetic adjustment"
                    ),
                )
            elif roll < 0.86:
                late = rng.random() < 0.25
                record.report_side_effect(
                    ctx(therapist),
                    c.ReportSideEffect(
                        order_id=order,
                        effect=rng.choice(["nausea", "insomnia", "headache"]),
                        severity="mild",
                        effective_at=clock - timedelta(days=3) if late else None,
                    ),
                )
            elif roll < 0.94:
                record.add_note(
                    ctx(therapist),
                    c.AddNote(kind="progress", modality="CBT", text="Synthetic progress."),
                )
            else:
                record.record_lab_result(
                    ctx(psychiatrist),
                    c.RecordLabResult(
                        test="weight", value=round(70 + rng.random() * 10, 1), unit="kg"
                    ),
                )
        carelog.app.save(record)
    return str(pid), start, clock


WARM = {"at a version", "as known at T", "in effect at T", "in effect at T2 as known at T1"}


def timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    begun = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - begun) * 1000


def measure(report: Report, kind: str) -> None:
    with places(kind) as where:
        carelog = bench_carelog(where, "h")
        try:
            built = time.perf_counter()
            pid, first, last = long_history(carelog, EVENTS)
            built = time.perf_counter() - built
            history = History(carelog.app)
            version = carelog.app.get_record(pid).version
            report.add(f"{kind}: events in the patient's stream", version)
            report.add(f"{kind}: building it (domain commands, saves of 500)", built, "s")
            rng = random.Random(1)
            span = (last - first).total_seconds()

            def when() -> datetime:
                return first + timedelta(seconds=rng.random() * span)

            kinds: dict[str, Any] = {
                "stream read + decode": lambda: list(carelog.app.events.get(UUID(pid))),
                "straight fold of the stream (in effect at T)": lambda: replay_in_effect_at(
                    list(carelog.app.events.get(UUID(pid))), when()
                ),
                "first query, nothing in memory (in effect at T)": lambda: History(
                    carelog.app
                ).in_effect_at(pid, when()),
                "at a version": lambda: history.at_version(pid, rng.randint(1, version)),
                "as known at T": lambda: history.known_at(pid, when()),
                "in effect at T": lambda: history.in_effect_at(pid, when()),
                "in effect at T2 as known at T1": lambda: history.in_effect_at(
                    pid, when(), known_at=when()
                ),
            }
            p50s: dict[str, list[float]] = {k: [] for k in kinds}
            p99s: dict[str, list[float]] = {k: [] for k in kinds}
            for _ in range(REPEAT):
                for name, query in kinds.items():
                    count = QUERIES if name in WARM else max(3, QUERIES // 5)
                    times = [timed(query) for _ in range(count)]
                    p50s[name].append(statistics.median(times))
                    p99s[name].append(percentile(times, 0.99))
            for name in kinds:
                report.samples(f"{kind}: {name}, p50", p50s[name], "ms")
                report.samples(f"{kind}: {name}, p99", p99s[name], "ms")
        finally:
            carelog.close()


def run(report: Report) -> None:
    report.text(
        "Target (issue 9): the plan as known at T and as in effect at T for a 10,000-event "
        "patient at p50 <= 5 ms."
    )
    report.text(
        "How it is answered: from the process's timeline of the patient "
        "(`services/reading/history_index.py`), a plan checkpoint every 256 events in recorded and "
        "in in-effect order; a query branches the nearest checkpoint and folds the rest. "
        "The warm figures' largest p99 is the repetition whose first query in each clock "
        'built that clock\'s checkpoints; "first query, nothing in memory" is that cost on '
        'its own (a fresh process: read the whole stream, build, answer), "straight fold" '
        'what every query cost before. "at a version" is the library\'s own snapshots '
        "(every 50 events), as a reference."
    )
    for kind in STORES:
        measure(report, kind)
