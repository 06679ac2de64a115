"""Over generated histories (late entries, corrections, dose changes, stops, team changes,
emergency access, reads), a view built incrementally in small batches, a rebuilt view and
a fresh replay all hold the same rows, on both stores."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.command_context import CommandContext
from domain.errors import CareLogError
from domain.patient_record import PatientRecord
from services.bootstrap import CareLog
from services.config import Config
from tests.command_builder import command as typed
from tests.conftest import Team, make_team
from tests.integration.views_support import dumps, fresh_replay, views_url_beside
from tests.patient_writes import dose_change, prescription, registration

PATIENTS = 3
T0 = datetime.now(UTC) - timedelta(days=60)

patient = st.integers(0, PATIENTS - 1)
scores = st.lists(st.integers(0, 3), min_size=9, max_size=9)
operation = st.one_of(
    st.tuples(
        st.just("prescribe"),
        patient,
        st.sampled_from(["sertraline", "lithium", "fluoxetine", "quetiapine"]),
    ),
    st.tuples(st.just("change_dose"), patient, st.integers(1, 8)),
    st.tuples(st.just("discontinue"), patient),
    st.tuples(st.just("phq9"), patient, scores, st.integers(0, 20)),
    st.tuples(st.just("correct_phq9"), patient, scores),
    st.tuples(
        st.just("side_effect"), patient, st.sampled_from(["mild", "severe"]), st.integers(0, 20)
    ),
    st.tuples(st.just("note"), patient, st.sampled_from(["progress", "psychotherapy"])),
    st.tuples(st.just("follow_up"), patient, st.integers(1, 30)),
    st.tuples(st.just("complete_follow_up"), patient),
    st.tuples(st.just("resolve_alert"), patient),
    st.tuples(st.just("remove_therapist"), patient),
    st.tuples(st.just("emergency"), patient),
    st.tuples(st.just("read"), patient, st.booleans()),
    st.tuples(st.just("catch_up")),
)


class History:
    """Plays generated operations through the real commands on a clock that moves on."""

    def __init__(self, carelog: CareLog, team: Team) -> None:
        self.carelog = carelog
        self.team = team
        self.now = T0
        self.pids: list[str] = []

    def ctx(self, who: Any) -> CommandContext:
        self.now += timedelta(hours=7)
        return CommandContext(who, now=self.now)

    def setup(self) -> None:
        for n in range(PATIENTS):
            pid = self.carelog.commands.register_patient(
                self.ctx(self.team.psychiatrist),
                registration(f"GEN-{n}", f"Gen {n}", "1970-01-01"),
            ).patient_id
            self.carelog.commands.execute(
                self.ctx(self.team.psychiatrist),
                pid,
                c.AssignCareTeamMember(clinician_id=self.team.therapist.id, role="therapist"),
            )
            self.pids.append(pid)

    def play(self, op: tuple[Any, ...]) -> None:
        with contextlib.suppress(CareLogError):  # refused by the domain or the safety rules
            getattr(self, f"_{op[0]}")(*op[1:])

    def _record(self, pid: str) -> PatientRecord:
        return self.carelog.app.get_record(pid)

    def _exec(self, who: Any, p: int, command: str, **fields: Any) -> Any:
        override = fields.pop("override_reason", None)
        return self.carelog.commands.execute(
            self.ctx(who), self.pids[p], typed(command, fields), override_reason=override
        )

    def _prescribe(self, p: int, drug: str) -> None:
        self.carelog.commands.execute(
            self.ctx(self.team.psychiatrist),
            self.pids[p],
            prescription(drug, 10, indication="test"),
            override_reason="generated",
        )

    def _active(self, p: int) -> list[str]:
        orders = self._record(self.pids[p]).plan.orders.values()
        return [o.order_id for o in orders if o.status == "active"]

    def _change_dose(self, p: int, amount: int) -> None:
        for order_id in self._active(p)[:1]:
            self.carelog.commands.execute(
                self.ctx(self.team.psychiatrist),
                self.pids[p],
                dose_change(order_id, amount * 5, "generated"),
                override_reason="generated",
            )

    def _discontinue(self, p: int) -> None:
        for order_id in self._active(p)[:1]:
            self._exec(
                self.team.psychiatrist,
                p,
                "discontinue",
                order_id=order_id,
                reason="generated",
                taper="over 2 weeks",
                override_reason="generated",
            )

    def _phq9(self, p: int, items: list[int], days_ago: int) -> None:
        ctx = self.ctx(self.team.therapist)
        self.carelog.commands.execute(
            ctx,
            self.pids[p],
            c.RecordAssessment(
                instrument="PHQ-9",
                item_scores=items,
                effective_at=ctx.now - timedelta(days=days_ago),
            ),
        )

    def _correct_phq9(self, p: int, items: list[int]) -> None:
        mine = [
            a
            for a in self._record(self.pids[p]).plan.assessments
            if a.actor.id == self.team.therapist.id
        ]
        if mine:
            self._exec(
                self.team.therapist,
                p,
                "correct_entry",
                event_id=mine[-1].event_id,
                fields={"item_scores": items},
                reason="generated",
            )

    def _side_effect(self, p: int, severity: str, days_ago: int) -> None:
        ctx = self.ctx(self.team.therapist)
        self.carelog.commands.execute(
            ctx,
            self.pids[p],
            c.ReportSideEffect(
                effect="nausea", severity=severity, effective_at=ctx.now - timedelta(days=days_ago)
            ),
        )

    def _note(self, p: int, kind: str) -> None:
        self._exec(
            self.team.therapist, p, "add_note", kind=kind, modality="CBT", text="generated words"
        )

    def _follow_up(self, p: int, days: int) -> None:
        self._exec(
            self.team.therapist,
            p,
            "schedule_follow_up",
            due_at=(self.now + timedelta(days=days)).isoformat(),
            purpose="generated",
        )

    def _complete_follow_up(self, p: int) -> None:
        pending = [
            f
            for f in self._record(self.pids[p]).plan.follow_ups.values()
            if f.status == "scheduled"
        ]
        if pending:
            self._exec(
                self.team.therapist,
                p,
                "complete_follow_up",
                follow_up_id=pending[0].follow_up_id,
                outcome="done",
            )

    def _resolve_alert(self, p: int) -> None:
        alerts = [a for a in self._record(self.pids[p]).plan.alerts.values() if a.status == "open"]
        if alerts:
            self._exec(
                self.team.psychiatrist,
                p,
                "resolve_alert",
                alert_id=alerts[0].alert_id,
                resolution="acknowledged",
                reason="ok",
                # a suicide-risk alert is closed with the action taken
                action="safety_plan" if alerts[0].kind == "suicide_risk" else None,
            )

    def _remove_therapist(self, p: int) -> None:
        self._exec(
            self.team.psychiatrist,
            p,
            "remove_care_team_member",
            clinician_id=self.team.therapist.id,
            reason="generated",
        )

    def _emergency(self, p: int) -> None:
        self._exec(self.team.outsider, p, "grant_emergency_access", reason="generated")
        self._exec(
            self.team.outsider,
            p,
            "add_note",
            kind="progress",
            modality="other",
            text="seen in an emergency",
        )

    def _read(self, p: int, allowed: bool) -> None:
        self.carelog.access_log.record(
            actor_id=self.team.pharmacist.id,
            actor_role="pharmacist",
            patient_id=self.pids[p],
            what="plan",
            request_id=str(uuid.uuid4()),
            source="10.0.0.1",
            allowed=allowed,
        )

    def _catch_up(self) -> None:
        self.carelog.views.catch_up()


@contextmanager
def fresh_carelog(config: Config, folder: Path) -> Iterator[CareLog]:
    """A CareLog over a brand-new store of the same kind (one per generated example)."""
    url = views_url_beside(config, folder, "store")
    carelog = CareLog(config.with_(database_url=url, views_url=None))
    try:
        yield carelog
    finally:
        carelog.close()


GENERATED = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.differing_executors,
    ],
)
"""How many histories are generated, for every store (one fresh store per history)."""


@contextmanager
def played(
    config: Config, folder: Path, kind: type[History], ops: list[tuple[Any, ...]], batch: int
) -> Iterator[tuple[CareLog, History]]:
    """A fresh store (``fresh_carelog``) where a ``kind`` history has played ``ops``, its
    views caught up in batches of ``batch`` events."""
    with fresh_carelog(config, folder) as carelog:
        carelog.views.batch_size = batch
        history = kind(carelog, make_team(carelog))
        history.setup()
        for op in ops:
            history.play(op)
        carelog.views.catch_up()
        yield carelog, history


class TestGeneratedHistories:
    @GENERATED
    @given(ops=st.lists(operation, min_size=5, max_size=40), batch=st.integers(1, 9))
    def test_rebuild_and_replay_equal_incremental_processing(
        self, config: Config, tmp_path: Path, ops: list[tuple[Any, ...]], batch: int
    ) -> None:
        with played(config, tmp_path, History, ops, batch) as (carelog, _):
            views = carelog.views
            incremental = dumps(views)

            for name in views.views:
                views.rebuild(name, progress=False)
            assert dumps(views) == incremental
            assert fresh_replay(carelog, tmp_path) == incremental
            # every batch folding each patient again from its record (snapshots)
            assert fresh_replay(carelog, tmp_path, batch_size=batch, cache_size=0) == incremental
