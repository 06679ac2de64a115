"""The team dashboard's ranking: what counts as worsening, suicide risk, overdue, recent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from projections.dashboard_ranking import KINDS, ROLE_KINDS, assess, default_kinds
from projections.plan_states import iso

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def summary(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "alerts": [],
        "follow_ups": [],
        "changes": [],
        "phq9": None,
        "severe_side_effects": [],
    }
    return {**base, **parts}


def phq9(total: int, previous: int | None, item9: int = 0) -> dict[str, Any]:
    return {
        "total": total,
        "previous": previous,
        "item9": item9,
        "at": iso(NOW - timedelta(days=1)),
    }


def alert(kind: str, severity: str = "major", due: datetime | None = None) -> dict[str, Any]:
    return {
        "id": f"a-{kind}",
        "kind": kind,
        "severity": severity,
        "message": f"{kind} found",
        "raised_at": iso(NOW - timedelta(days=2)),
        "due_at": iso(due),
    }


class TestWorsening:
    def test_a_rise_of_five_is_worsening_and_four_is_not(self) -> None:
        assert assess(summary(phq9=phq9(14, 9)), KINDS, NOW)["worsening"] is True
        assert assess(summary(phq9=phq9(13, 9)), KINDS, NOW)["worsening"] is False
        assert assess(summary(phq9=phq9(14, None)), KINDS, NOW)["worsening"] is False

    def test_a_worsening_alert_is_shown_once_as_worsening(self) -> None:
        facts = assess(
            summary(alerts=[alert("worsening", "moderate")], phq9=phq9(16, 9)), KINDS, NOW
        )
        assert [r["kind"] for r in facts["reasons"]] == ["worsening"]
        assert facts["reasons"][0]["message"] == "worsening found"


class TestSuicideRisk:
    def test_item_nine_above_zero_is_suicide_risk_and_outranks_everything_else(self) -> None:
        risk = assess(summary(phq9=phq9(3, 2, item9=1)), KINDS, NOW)
        busy = assess(
            summary(alerts=[alert("interaction", "contraindicated")] * 30, phq9=phq9(20, 9)),
            KINDS,
            NOW,
        )
        assert risk["suicide_risk"]
        assert not busy["suicide_risk"]
        assert risk["urgency"] > busy["urgency"]
        assert risk["reasons"][0]["kind"] == "suicide_risk"

    def test_suicide_risk_is_shown_whatever_kinds_were_asked_for(self) -> None:
        facts = assess(summary(alerts=[alert("suicide_risk", "urgent")]), ["recent_changes"], NOW)
        assert [r["kind"] for r in facts["reasons"]] == ["suicide_risk"]


class TestClock:
    def test_a_follow_up_is_overdue_only_once_its_due_time_has_passed(self) -> None:
        due = NOW + timedelta(hours=1)
        follow_up = {"id": "f", "due_at": iso(due), "purpose": "check-in"}
        assert assess(summary(follow_ups=[follow_up]), KINDS, NOW)["overdue_follow_ups"] == 0
        later = assess(summary(follow_ups=[dict(follow_up)]), KINDS, due + timedelta(days=3))
        assert later["overdue_follow_ups"] == 1
        assert "overdue by 3 day(s)" in later["reasons"][0]["message"]

    def test_changes_count_as_recent_for_seven_days(self) -> None:
        changes = [
            {
                "type": "DoseChanged",
                "order_id": "o",
                "message": "Dose changed",
                "at": iso(NOW - timedelta(days=days)),
            }
            for days in (1, 6, 8)
        ]
        assert assess(summary(changes=changes), KINDS, NOW)["recent_changes"] == 2

    def test_monitoring_past_its_due_time_ranks_above_monitoring_not_yet_due(self) -> None:
        late = assess(
            summary(alerts=[alert("monitoring_due", "moderate", NOW - timedelta(days=1))]),
            KINDS,
            NOW,
        )
        soon = assess(
            summary(alerts=[alert("monitoring_due", "moderate", NOW + timedelta(days=5))]),
            KINDS,
            NOW,
        )
        assert late["monitoring_due"] == soon["monitoring_due"] == 1
        assert late["urgency"] > soon["urgency"]


class TestKinds:
    def test_each_role_acts_on_suicide_risk_and_kinds_it_knows(self) -> None:
        for role, kinds in ROLE_KINDS.items():
            assert "suicide_risk" in kinds, role
            assert set(kinds) <= set(KINDS)
        assert "alerts" not in default_kinds("therapist")
        assert default_kinds("auditor") == KINDS
