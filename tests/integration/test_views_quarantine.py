"""A poison event (the projection raises on it) is quarantined with its error and reported;
the view stops there while the others go on; ``skip`` resumes it and is audited; fixed
code projects it on restart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from domain.command_context import CommandContext
from projections.current_plan import CurrentPlanView
from projections.feed import Item
from projections.runner import Views
from projections.sql.database import Cursor
from projections.view import Tables
from services.bootstrap import CareLog
from tests.conftest import Team
from tests.integration.views_support import note, prescribe, register
from tests.patient_writes import prescription

POISON = "this note breaks the current-plan projection"
original_project = CurrentPlanView.project


def poisoned_project(
    self: CurrentPlanView, cur: Cursor, t: Tables, stream: str, items: Sequence[Item]
) -> None:
    """A projection bug: the current-plan view cannot handle one particular note."""
    if any(
        POISON in (getattr(i.payload, "text", None), getattr(i.payload, "indication", None))
        for i in items
    ):
        raise ValueError("cannot project this note")
    original_project(self, cur, t, stream, items)


@pytest.fixture
def poisoned(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(CurrentPlanView, "project", poisoned_project)
    return monkeypatch


def history_with_poison(carelog: CareLog, team: Team) -> tuple[str, int]:
    pid = register(carelog, team, "MRN-P")
    note(carelog, team, pid, "fine")
    poison = note(carelog, team, pid, POISON).position
    note(carelog, team, pid, "after the poison")
    return pid, poison


def row(views: Views, name: str) -> dict[str, Any]:
    return next(r for r in views.status() if r["name"] == name)


@pytest.mark.usefixtures("poisoned")
class TestQuarantine:
    def test_a_poison_event_is_quarantined_and_reported_and_later_events_wait(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, poison = history_with_poison(carelog, team)
        views = carelog.views
        views.catch_up()

        plan = row(views, "current_plan")
        assert plan["position"] == poison - 1
        assert plan["state"] == "quarantined"
        [item] = plan["quarantined"]
        assert (item["position"], item["topic"], item["patient_id"]) == (
            poison,
            "carelog.NoteAdded",
            pid,
        )
        assert "cannot project this note" in item["error"]
        head = carelog.app.recorder.max_notification_id()
        assert row(views, "audit_trail")["position"] == head
        assert row(views, "team_dashboard")["position"] == head

        order = prescribe(carelog, team, pid)
        views.catch_up()
        assert row(views, "current_plan")["position"] == poison - 1
        current = views.current_plan.get(pid)
        assert current is not None
        assert current["medications"] == []
        assert (
            row(views, "team_dashboard")["position"] == carelog.app.recorder.max_notification_id()
        )
        assert order

    def test_the_quarantine_survives_a_restart_while_the_code_is_still_broken(
        self, carelog: CareLog, team: Team
    ) -> None:
        _, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        restarted = Views(carelog.app, carelog.db, carelog.access_log)
        restarted.catch_up()
        [item] = row(restarted, "current_plan")["quarantined"]
        assert (item["position"], item["attempts"]) == (poison, 2)


@pytest.mark.usefixtures("poisoned")
class TestSkip:
    def test_skip_moves_the_view_past_the_event_and_is_in_the_audit_trail(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, poison = history_with_poison(carelog, team)
        views = carelog.views
        views.catch_up()
        order = prescribe(carelog, team, pid)

        views.skip("current_plan", poison, "note cannot be shown; fix tracked in #12", team.admin)
        views.catch_up()

        plan = row(views, "current_plan")
        assert (plan["position"], plan["quarantined"], plan["state"]) == (
            carelog.app.recorder.max_notification_id(),
            [],
            "caught_up",
        )
        current = views.current_plan.get(pid)
        assert current is not None
        assert [m["order_id"] for m in current["medications"]] == [order]
        [entry], _ = views.audit_trail.entries(action="projections.skip")
        assert entry["actor"] == {"id": team.admin.id, "role": "admin"}
        assert entry["patient_id"] == pid
        assert entry["details"]["view"] == "current_plan"
        assert entry["details"]["position"] == poison
        assert entry["details"]["reason"] == "note cannot be shown; fix tracked in #12"

    def test_a_rebuild_skips_what_an_operator_skipped(self, carelog: CareLog, team: Team) -> None:
        _, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        carelog.views.skip("current_plan", poison, "known bad note", "ops")
        carelog.views.catch_up()
        before = carelog.views.current_plan.dump()
        carelog.views.rebuild("current_plan", progress=False)
        assert carelog.views.current_plan.dump() == before

    def test_skip_needs_a_reason_and_a_quarantined_position(
        self, carelog: CareLog, team: Team
    ) -> None:
        from domain.errors import InvalidInputError, NotFoundError

        _, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        with pytest.raises(InvalidInputError):
            carelog.views.skip("current_plan", poison, "  ", "ops")
        with pytest.raises(NotFoundError):
            carelog.views.skip("current_plan", poison + 1, "not that one", "ops")
        with pytest.raises(NotFoundError):
            carelog.views.skip("no_such_view", poison, "x", "ops")
        assert row(carelog.views, "current_plan")["position"] == poison - 1


@pytest.mark.usefixtures("poisoned")
class TestSkipAfterRestart:
    def test_a_skipped_event_stays_out_when_the_patient_is_folded_again_from_the_record(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-S")
        carelog.commands.execute(
            CommandContext(team.psychiatrist), pid, prescription(indication=POISON)
        )
        carelog.views.catch_up()
        [item] = row(carelog.views, "current_plan")["quarantined"]
        carelog.views.skip("current_plan", item["position"], "order cannot be shown", "ops")
        carelog.views.catch_up()
        assert carelog.views.current_plan.get(pid)["medications"] == []  # type: ignore[index]

        restarted = Views(carelog.app, carelog.db, carelog.access_log, cache_size=0)
        note(carelog, team, pid, "after the restart")
        restarted.catch_up()

        plan = restarted.current_plan.get(pid)
        assert plan is not None
        assert plan["medications"] == []
        assert plan["version"] == carelog.app.get_record(pid).version
        assert restarted.current_plan.states.misses >= 1


class TestFix:
    def test_fixed_code_projects_the_event_on_restart_and_resolves_it(
        self, carelog: CareLog, team: Team, poisoned: pytest.MonkeyPatch
    ) -> None:
        pid, poison = history_with_poison(carelog, team)
        carelog.views.catch_up()
        poisoned.undo()  # the fix is deployed

        restarted = Views(carelog.app, carelog.db, carelog.access_log)
        restarted.catch_up()

        plan = row(restarted, "current_plan")
        assert (plan["position"], plan["quarantined"]) == (
            carelog.app.recorder.max_notification_id(),
            [],
        )
        status = carelog.db.query_one(
            "SELECT status FROM view_quarantine WHERE position = ?", (poison,)
        )
        assert status == {"status": "resolved"}
        assert restarted.current_plan.get(pid) is not None
