"""Every dose change schedules a check-in (CARELOG_FOLLOW_UP_DAYS after the change took
effect, default 14) unless an open one is already due by then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain import commands as c
from domain.command_context import CommandContext
from domain.plan_records import FollowUp
from services.bootstrap import CareLog
from services.config import Config
from tests.conftest import Team, make_team
from tests.integration.test_safety_writes import prescribe, with_order
from tests.patient_writes import dose_change, register


def open_follow_ups(carelog: CareLog, pid: str) -> list[FollowUp]:
    plan = carelog.app.get_record(pid).plan
    return sorted(
        (f for f in plan.follow_ups.values() if f.status == "scheduled"),
        key=lambda f: f.due_at,
    )


def change_dose(
    carelog: CareLog, team: Team, pid: str, order: str, amount: float, **kw: Any
) -> Any:
    return carelog.commands.execute(
        CommandContext(team.psychiatrist), pid, dose_change(order, amount, **kw)
    )


def schedule(carelog: CareLog, team: Team, pid: str, due: datetime) -> None:
    """A check-in due at ``due``; one already overdue was scheduled ten days before it."""
    now = min(datetime.now(UTC), due - timedelta(days=10))
    carelog.commands.execute(
        CommandContext(team.psychiatrist, now=now),
        pid,
        c.ScheduleFollowUp(due_at=due, purpose="review"),
    )


class TestDoseChangeCheckIns:
    def test_a_dose_change_schedules_a_check_in_fourteen_days_after_it(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, order = with_order(carelog, team, "sertraline", 50)
        before = datetime.now(UTC)
        change_dose(carelog, team, pid, order, 100)
        [check_in] = open_follow_ups(carelog, pid)
        assert "sertraline" in check_in.purpose
        assert before + timedelta(days=14) <= check_in.due_at
        assert check_in.due_at <= datetime.now(UTC) + timedelta(days=14)

    def test_no_second_check_in_when_one_is_due_sooner_or_overdue(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, order = with_order(carelog, team, "sertraline", 50)
        schedule(carelog, team, pid, datetime.now(UTC) + timedelta(days=5))
        change_dose(carelog, team, pid, order, 100)
        assert len(open_follow_ups(carelog, pid)) == 1

        other = setup_other(carelog, team)
        order = prescribe(carelog, team, other, "sertraline", 50).ids["order_id"]
        schedule(carelog, team, other, datetime.now(UTC) - timedelta(days=2))  # overdue
        change_dose(carelog, team, other, order, 100)
        assert len(open_follow_ups(carelog, other)) == 1

    def test_a_check_in_due_later_does_not_stand_in_for_this_change(
        self, carelog: CareLog, team: Team
    ) -> None:
        pid, order = with_order(carelog, team, "sertraline", 50)
        later = datetime.now(UTC) + timedelta(days=30)
        schedule(carelog, team, pid, later)
        change_dose(carelog, team, pid, order, 100)
        dues = [f.due_at for f in open_follow_ups(carelog, pid)]
        assert len(dues) == 2
        assert dues[0] < later - timedelta(days=15)

    def test_a_late_entered_change_is_followed_up_from_when_it_took_effect(
        self, carelog: CareLog, team: Team
    ) -> None:
        started = datetime.now(UTC) - timedelta(days=20)
        pid, order = with_order(carelog, team, "sertraline", 50, effective_at=started)
        changed = datetime.now(UTC) - timedelta(days=10)
        change_dose(carelog, team, pid, order, 100, effective_at=changed)
        [check_in] = open_follow_ups(carelog, pid)
        assert check_in.due_at == changed + timedelta(days=14)

    def test_a_change_entered_after_its_check_in_time_is_accepted_and_due_within_a_day(
        self, carelog: CareLog, team: Team
    ) -> None:
        started = datetime.now(UTC) - timedelta(days=60)
        pid, order = with_order(carelog, team, "sertraline", 50, effective_at=started)
        change_dose(carelog, team, pid, order, 100, effective_at=started + timedelta(days=30))
        [check_in] = open_follow_ups(carelog, pid)
        assert datetime.now(UTC) < check_in.due_at <= datetime.now(UTC) + timedelta(days=1)

    def test_the_interval_is_configurable(self, config: Config) -> None:
        carelog = CareLog(config.with_(follow_up_days=7))
        try:
            team = make_team(carelog)
            pid, order = with_order(carelog, team, "sertraline", 50)
            change_dose(carelog, team, pid, order, 100)
            [check_in] = open_follow_ups(carelog, pid)
            assert check_in.due_at <= datetime.now(UTC) + timedelta(days=7)
            assert check_in.due_at > datetime.now(UTC) + timedelta(days=6)
        finally:
            carelog.close()


def setup_other(carelog: CareLog, team: Team) -> str:
    return register(carelog, CommandContext(team.psychiatrist), "MRN-S2", "S2", "1985-05-05")
