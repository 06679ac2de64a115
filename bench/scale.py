"""Scale: a million events over ten thousand patients, rebuilt, read and verified.

On each store of ``CARELOG_BENCH_SCALE_STORES`` (default ``sqlite``; add ``postgres``),
``CARELOG_BENCH_SCALE_EVENTS`` events (default 1,000,000) are written over
``CARELOG_BENCH_SCALE_PATIENTS`` patients (default 10,000) through the domain's own
commands (registration, care team, prescription, then weekly PHQ-9s and GAD-7s, dose
changes, side effects, notes), many patients saved per transaction, with a progress bar.
100 psychiatrists share the patients (about 100 each). Then, one after another:

- the full rebuild of every view from zero (``Views.rebuild``, the path ``carelog
  projections rebuild NAME`` takes), one view after another in this process, and then
  all three side by side, each in a worker process of its own
  (``services.cli.view_rebuild``, the path ``carelog projections rebuild current_plan
  audit_trail team_dashboard`` takes, one process per view);
- ``CARELOG_BENCH_SCALE_READS`` reads (default 200) of a random patient's current plan and
  of a random psychiatrist's team dashboard (p50/p99);
- ``carelog verify`` over the whole log (every chain, recomputed);
- the store's size on disk (SQLite files; PostgreSQL ``pg_total_relation_size`` of the
  schema's tables).

Rebuild and reads run ``CARELOG_BENCH_SCALE_REPEAT`` times (default 5; generation and
verification once each: a million-event run takes about half an hour here).
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.__main__ import Report
from bench._support import bench_carelog, percentile, sized, stores
from bench.views_log import places
from domain import commands as c
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.patient_record import PatientRecord
from services.bootstrap import CareLog
from services.cli.progress import ProgressBar
from services.cli.view_rebuild import default_jobs, rebuild_views
from tests.patient_writes import SERTRALINE

STORES = stores("SCALE", "sqlite")
EVENTS = sized("CARELOG_BENCH_SCALE_EVENTS", 3000, 1000000)
PATIENTS = sized("CARELOG_BENCH_SCALE_PATIENTS", 30, 10000)
READS = sized("CARELOG_BENCH_SCALE_READS", 20, 200)
REPEAT = sized("CARELOG_BENCH_SCALE_REPEAT", 1, 5)
PSYCHIATRISTS = 100
PER_SAVE = 50  # patients saved in one transaction
VIEWS = ("current_plan", "audit_trail", "team_dashboard")
JOBS = default_jobs(VIEWS)


def generate(carelog: CareLog, events: int, patients: int) -> tuple[list[str], list[str]]:
    """Fill the store; returns the patient ids and the psychiatrists' ids."""
    rng = random.Random(42)
    doctors = [
        carelog.staff.add(f"Scale Psychiatrist {n}", "psychiatrist", False)[0].actor
        for n in range(min(PSYCHIATRISTS, patients))
    ]
    therapist = carelog.staff.add("Scale Therapist", "therapist", False)[0].actor
    per_patient = max(events // patients, 6)
    start = datetime.now(UTC) - timedelta(days=2 * 365)
    step = timedelta(days=2 * 365) / per_patient
    bar = ProgressBar(patients * per_patient, "events")
    ids: list[str] = []
    for first in range(0, patients, PER_SAVE):
        records: list[PatientRecord] = []
        for n in range(first, min(first + PER_SAVE, patients)):
            doctor = doctors[n % len(doctors)]
            clock = start + timedelta(minutes=n)
            record = PatientRecord.register(
                CommandContext(actor=doctor, now=clock),
                c.RegisterPatient(
                    external_id=f"SCALE-{n:06d}",
                    name=f"Scale Patient {n}",
                    birth_date=date.fromisoformat("1975-03-03"),
                ),
                patient_id=_new_uuid(rng),
            )
            ctx = CommandContext(actor=doctor, now=clock)
            record.assign_care_team_member(
                ctx,
                c.AssignCareTeamMember(clinician_id=therapist.id, role="therapist"),
                clinician_name="Scale Therapist",
            )
            drug = carelog.commands.resolve_drug("sertraline")
            record.prescribe(
                ctx,
                replace(
                    SERTRALINE,
                    dose=Dose(50.0, "mg"),
                    indication="Major depressive disorder",
                    drug=drug["name"],
                ),
                order_id=f"order-{n}",
                drug=drug,
            )
            dose = 50.0
            while len(record.pending_events) < per_patient:
                clock += step
                roll = rng.random()
                if roll < 0.5:
                    items = [rng.randint(0, 2) for _ in range(8)] + [0]
                    record.record_assessment(
                        CommandContext(actor=therapist, now=clock),
                        c.RecordAssessment(instrument="PHQ-9", item_scores=items),
                    )
                elif roll < 0.75:
                    items = [rng.randint(0, 2) for _ in range(7)]
                    record.record_assessment(
                        CommandContext(actor=therapist, now=clock),
                        c.RecordAssessment(instrument="GAD-7", item_scores=items),
                    )
                elif roll < 0.85:
                    dose = 100.0 if dose == 50.0 else 50.0
                    record.change_dose(
                        CommandContext(actor=doctor, now=clock),
                        c.ChangeDose(
                            order_id=f"order-{n}",
                            dose=Dose(dose, "mg"),
                            reason="Synthetic adjustment",
                        ),
                    )
                elif roll < 0.93:
                    record.report_side_effect(
                        CommandContext(actor=therapist, now=clock),
                        c.ReportSideEffect(order_id=f"order-{n}", effect="nausea", severity="mild"),
                    )
                else:
                    record.add_note(
                        CommandContext(actor=therapist, now=clock),
                        c.AddNote(kind="progress", modality="CBT", text="Synthetic progress note."),
                    )
            records.append(record)
            ids.append(str(record.id))
        carelog.app.save(*records)
        bar.advance(sum(r.version for r in records))
    bar.close()
    return ids, [d.id for d in doctors]


def _new_uuid(rng: random.Random) -> Any:
    import uuid

    return uuid.UUID(int=rng.getrandbits(128), version=4)


def disk_size(carelog: CareLog, folder: Path) -> int:
    if not carelog.config.is_postgres:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    import psycopg

    schema = carelog.config.database_url.partition("?schema=")[2]
    with psycopg.connect(carelog.config.database_url.partition("?")[0]) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(quote_ident(schemaname) || '.' ||"
            " quote_ident(tablename))), 0) FROM pg_tables WHERE schemaname = %s",
            (schema,),
        ).fetchone()
    return int(row[0]) if row else 0


def measure(report: Report, kind: str) -> None:
    with places(kind) as where:
        carelog = bench_carelog(where, "s")
        try:
            began = time.perf_counter()
            patients, doctors = generate(carelog, EVENTS, PATIENTS)
            took = time.perf_counter() - began
            head = int(carelog.app.recorder.max_notification_id() or 0)
            report.add(f"{kind}: events in the log", head)
            report.add(f"{kind}: patients", len(patients))
            report.add(f"{kind}: generating it through the domain's commands", took, "s")
            report.add(f"{kind}: generation rate", head / took, "events/s")
            carelog.views.catch_up()
            rebuilds: dict[str, list[float]] = {v: [] for v in VIEWS}
            side_by_side: list[float] = []
            plan_p50, plan_p99, board_p50, board_p99 = [], [], [], []
            rng = random.Random(3)
            for _ in range(REPEAT):
                for view in VIEWS:
                    started = time.perf_counter()
                    carelog.views.rebuild(view, progress=False)
                    rebuilds[view].append(time.perf_counter() - started)
                started = time.perf_counter()
                failed = [r for r in rebuild_views(carelog.config, VIEWS, JOBS) if r.error]
                assert not failed, failed
                side_by_side.append(time.perf_counter() - started)
                plans, boards = [], []
                for _ in range(READS):
                    pid = rng.choice(patients)
                    started = time.perf_counter()
                    assert carelog.views.current_plan.get(pid) is not None
                    plans.append((time.perf_counter() - started) * 1000)
                    doctor = rng.choice(doctors)
                    started = time.perf_counter()
                    carelog.views.team_dashboard.for_clinician(doctor)
                    boards.append((time.perf_counter() - started) * 1000)
                plan_p50.append(statistics.median(plans))
                plan_p99.append(percentile(plans, 0.99))
                board_p50.append(statistics.median(boards))
                board_p99.append(percentile(boards, 0.99))
            for view in VIEWS:
                report.samples(f"{kind}: rebuild {view} from zero", rebuilds[view], "s")
            everything = [sum(r) for r in zip(*rebuilds.values(), strict=True)]
            report.samples(f"{kind}: rebuild of every view, one after another", everything, "s")
            report.samples(
                f"{kind}: rebuild of every view, side by side ({JOBS} processes)",
                side_by_side,
                "s",
            )
            report.samples(f"{kind}: current plan read, p50", plan_p50, "ms")
            report.samples(f"{kind}: current plan read, p99", plan_p99, "ms")
            report.samples(f"{kind}: team dashboard (~100 patients), p50", board_p50, "ms")
            report.samples(f"{kind}: team dashboard (~100 patients), p99", board_p99, "ms")
            started = time.perf_counter()
            result = carelog.integrity.verify(record=False)
            took = time.perf_counter() - started
            report.add(f"{kind}: carelog verify, whole log", took, "s")
            report.add(f"{kind}: verify rate", head / took, "events/s")
            report.add(f"{kind}: verify result", "ok" if result.ok else "FAILED")
            size = disk_size(carelog, where.folder)
            report.add(f"{kind}: store and views on disk", size / 2**20, "MiB")
            report.add(f"{kind}: bytes per event", size / max(head, 1), "B")
        finally:
            carelog.close()


def run(report: Report) -> None:
    report.text(
        "Target (issue 9): the full rebuild of every view within 60 s for 1,000,000 events."
    )
    for kind in STORES:
        measure(report, kind)
