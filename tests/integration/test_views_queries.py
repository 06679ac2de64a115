"""What clinicians read from the views: the current plan, their patients, the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import commands as c
from domain.command_context import CommandContext
from domain.errors import InvalidInputError
from services.bootstrap import CareLog
from tests.conftest import Team
from tests.integration.views_support import join_team, phq9, prescribe, register
from tests.patient_writes import dose_change


class TestCurrentPlan:
    def test_the_plan_shows_the_active_dose_its_change_the_scores_and_the_team(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-1", "Ada Example")
        join_team(carelog, team, pid)
        order = prescribe(carelog, team, pid, amount=50)
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            dose_change(order, 100),
        )
        phq9(carelog, team, pid, [2] * 9)
        phq9(carelog, team, pid, [1] * 9)
        stopped = prescribe(carelog, team, pid, drug="mirtazapine", amount=15)
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            c.Discontinue(order_id=stopped, reason="sedation", taper="over 1 week"),
        )
        carelog.views.catch_up()

        plan = carelog.views.current_plan.get(pid)
        assert plan is not None
        assert plan["patient"]["name"] == "Ada Example"
        assert plan["version"] == carelog.app.get_record(pid).version
        [med] = plan["medications"]
        assert (med["order_id"], med["drug"], med["dose"], med["last_change_reason"]) == (
            order,
            "sertraline",
            {"amount": 100.0, "unit": "mg"},
            "titration",
        )
        assert med["prescriber"] == {"id": team.psychiatrist.id, "role": "psychiatrist"}
        [score] = [a for a in plan["assessments"] if a["instrument"] == "PHQ-9"]
        assert (score["total"], score["trend"], score["change"]) == (9, [18, 9], -9)
        assert {m["role"] for m in plan["care_team"]} == {"psychiatrist", "therapist", "pharmacist"}
        [follow_up] = plan["follow_ups"]  # the check-in after the dose change
        assert follow_up["overdue"] is False
        later = carelog.views.current_plan.get(pid, now=datetime.now(UTC) + timedelta(days=30))
        assert later is not None
        assert later["follow_ups"][0]["overdue"] is True

    def test_a_patient_leaves_a_clinicians_list_when_they_leave_the_team(
        self, carelog: CareLog, team: Team
    ) -> None:
        first = register(carelog, team, "MRN-A", "Alpha")
        second = register(carelog, team, "MRN-B", "Beta")
        join_team(carelog, team, first)
        join_team(carelog, team, second)
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            second,
            c.RemoveCareTeamMember(clinician_id=team.therapist.id, reason="handover"),
        )
        carelog.views.catch_up()
        plans = carelog.views.current_plan

        assert [p["name"] for p in plans.patients_for(team.therapist.id)] == ["Alpha"]
        assert [p["name"] for p in plans.patients_for(team.psychiatrist.id)] == ["Alpha", "Beta"]
        assert plans.patients_for(team.outsider.id) == []
        assert [p["external_id"] for p in plans.all_patients()] == ["MRN-A", "MRN-B"]
        assert plans.get("7d9f0c7e-0000-4000-8000-000000000000") is None


class TestTeamDashboard:
    def test_a_suicide_risk_item_ranks_first_and_worsening_is_shown(
        self, carelog: CareLog, team: Team
    ) -> None:
        calm = register(carelog, team, "MRN-C", "Calm")
        worse = register(carelog, team, "MRN-W", "Worse")
        risk = register(carelog, team, "MRN-R", "Risk")
        for pid in (calm, worse, risk):
            join_team(carelog, team, pid)
        phq9(carelog, team, worse, [2, 1, 1, 1, 1, 1, 1, 1, 0])
        phq9(carelog, team, worse, [2, 2, 2, 2, 2, 2, 2, 2, 0])  # 9 -> 16: a rise of 7
        phq9(carelog, team, risk, [0, 0, 0, 0, 0, 0, 0, 0, 1])  # item 9 answered
        carelog.views.catch_up()

        board = carelog.views.team_dashboard.for_clinician(team.therapist.id)
        names = [p["name"] for p in board["patients"]]
        assert names == ["Risk", "Worse", "Calm"]
        first, second, third = board["patients"]
        assert first["suicide_risk"]
        assert first["reasons"][0]["kind"] == "suicide_risk"
        assert second["worsening"]
        assert not second["suicide_risk"]
        assert [r["kind"] for r in second["reasons"]] == ["worsening"]
        assert "9 to 16" in second["reasons"][0]["message"]
        assert third["urgency"] < second["urgency"] < first["urgency"]

    def test_overdue_follow_ups_are_decided_when_read_and_kinds_filter_the_reasons(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid = register(carelog, team, "MRN-O", "Olive")
        join_team(carelog, team, pid)
        order = prescribe(carelog, team, pid)
        carelog.commands.execute(
            CommandContext(team.psychiatrist),
            pid,
            dose_change(order, 100),
        )
        carelog.views.catch_up()
        board = carelog.views.team_dashboard

        today = board.for_clinician(team.pharmacist.id)["patients"][0]
        assert today["overdue_follow_ups"] == 0
        assert today["recent_changes"] == 2
        in_a_month = datetime.now(UTC) + timedelta(days=30)
        later = board.for_clinician(team.pharmacist.id, now=in_a_month)["patients"][0]
        assert later["overdue_follow_ups"] == 1
        assert later["recent_changes"] == 0
        assert {r["kind"] for r in later["reasons"]} >= {"overdue_follow_ups"}
        only_changes = board.for_clinician(team.pharmacist.id, kinds=["recent_changes"])
        assert {r["kind"] for r in only_changes["patients"][0]["reasons"]} == {"recent_changes"}
        with pytest.raises(InvalidInputError):
            board.for_clinician(team.pharmacist.id, kinds=["gossip"])
        assert board.for_clinician(team.outsider.id)["patients"] == []
