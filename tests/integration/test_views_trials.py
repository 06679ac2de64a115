"""The treatment-trials view over generated histories: its trials equal a straight
re-computation from the log, and a rebuild equals the incremental view (both stores)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain import commands as c
from domain.plan import PlanState
from domain.trial_outcomes import treatment_history
from services.config import Config
from tests.integration.test_views_generated import (
    GENERATED,
    History,
    operation,
    patient,
    played,
)
from tests.integration.views_support import dumps
from tests.patient_writes import prescription

late = st.one_of(
    operation,
    st.tuples(st.just("late_start"), patient, st.integers(10, 90), st.integers(5, 40)),
    st.tuples(st.just("late_stop"), patient, st.integers(0, 30)),
)


class TrialHistory(History):
    """The generated histories, plus prescriptions and stops entered late."""

    def _late_start(self, p: int, days_ago: int, amount: int) -> None:
        ctx = self.ctx(self.team.psychiatrist)
        self.carelog.commands.execute(
            ctx,
            self.pids[p],
            prescription(amount=amount * 5, effective_at=ctx.now - timedelta(days=days_ago)),
            override_reason="generated",
        )

    def _late_stop(self, p: int, days_ago: int) -> None:
        for order_id in self._active(p)[:1]:
            ctx = self.ctx(self.team.psychiatrist)
            self.carelog.commands.execute(
                ctx,
                self.pids[p],
                c.Discontinue(
                    order_id=order_id,
                    reason="generated",
                    taper="over 2 weeks",
                    effective_at=ctx.now - timedelta(days=days_ago),
                ),
                override_reason="generated",
            )


def straight(carelog: Any, pid: str, now: Any) -> dict[str, Any]:
    """The patient's trials from a fold of every event of the log, in recorded order."""
    state = PlanState()
    for event in carelog.app.events.get(uuid.UUID(pid)):
        state.apply(event)
    return treatment_history(state, now)


class TestGeneratedTrials:
    @GENERATED
    @given(ops=st.lists(late, min_size=5, max_size=40), batch=st.integers(1, 9))
    def test_the_view_equals_a_straight_recomputation_and_its_rebuild(
        self, config: Config, tmp_path: Path, ops: list[tuple[Any, ...]], batch: int
    ) -> None:
        with played(config, tmp_path, TrialHistory, ops, batch) as (carelog, history):
            views = carelog.views
            view = views.treatment_trials
            now = history.now + timedelta(days=1)
            for pid in history.pids:
                shown = view.for_patient(pid, now)
                assert shown is not None
                expected = straight(carelog, pid, now)
                assert shown["trials"] == expected["trials"]
                assert shown["resistance"] == expected["resistance"]
                orders = carelog.app.get_record(pid).plan.orders
                listed = [o for t in shown["trials"] for o in t["order_ids"]]
                assert sorted(listed) == sorted(orders)  # every order in exactly one trial

            incremental = dumps(views)["treatment_trials"]
            views.rebuild("treatment_trials", progress=False)
            assert dumps(views)["treatment_trials"] == incremental
