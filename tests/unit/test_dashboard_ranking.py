"""The team dashboard's ranking: what counts as worsening, suicide risk, overdue, recent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

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
        assert late["monitoring_due"] == 1
        assert late["urgency"] > soon["urgency"]

    def test_monitoring_not_yet_due_needs_no_attention_and_is_shown_as_upcoming(self) -> None:
        soon = assess(
            summary(alerts=[alert("reassessment_due", "moderate", NOW + timedelta(days=30))]),
            KINDS,
            NOW,
        )
        assert (soon["quiet"], soon["monitoring_due"], soon["urgency"]) == (True, 0, 0)
        due = (NOW + timedelta(days=30)).date().isoformat()
        assert [u["message"] for u in soon["upcoming"]] == [f"PHQ-9 due {due}"]


class TestKinds:
    def test_each_role_acts_on_suicide_risk_and_kinds_it_knows(self) -> None:
        for role, kinds in ROLE_KINDS.items():
            assert "suicide_risk" in kinds, role
            assert set(kinds) <= set(KINDS)
        assert "alerts" not in default_kinds("therapist")
        assert default_kinds("auditor") == KINDS


def change(days_ago: float = 1, by: str | None = "Dr Ada Quill") -> dict[str, Any]:
    return {
        "type": "DoseChanged",
        "order_id": "o",
        "message": "Dose changed: sertraline 100 mg once daily",
        "at": iso(NOW - timedelta(days=days_ago)),
        "by": {"id": "c1", "role": "psychiatrist", "name": by} if by else None,
    }


def urgency(**parts: Any) -> int:
    value: int = assess(summary(**parts), KINDS, NOW)["urgency"]
    return value


class TestClinicalOrder:
    """The issue's order: suicide risk (by the item-9 answer, then the total), critical
    labs and contraindicated overrides, severe side effects, overdue monitoring, worsening
    scores, other alerts; recent changes last; nothing at all after that."""

    def test_a_higher_item_9_answer_outranks_a_lower_one_with_busy_recent_changes(self) -> None:
        """The first hour's finding: PHQ-9 11 with item 9 = 1 and four recent changes
        ranked above PHQ-9 21 with item 9 = 2."""
        lower = urgency(phq9=phq9(11, 9, item9=1), changes=[change(d) for d in (1, 2, 3, 4)])
        higher = urgency(phq9=phq9(21, 18, item9=2))
        assert higher > lower

    def test_with_the_same_item_9_answer_the_higher_total_ranks_first(self) -> None:
        assert urgency(phq9=phq9(21, 20, item9=1)) > urgency(phq9=phq9(11, 10, item9=1))

    def test_the_tiers_rank_in_clinical_order(self) -> None:
        late = NOW - timedelta(days=2)
        ladder = [
            urgency(phq9=phq9(5, 5, item9=1)),
            urgency(alerts=[alert("lab_out_of_range", "major")]),
            urgency(alerts=[alert("interaction", "contraindicated")]),
            urgency(severe_side_effects=[{"effect": "rash", "at": iso(NOW), "drug": "x"}]),
            urgency(alerts=[alert("monitoring_due", "moderate", late)]),
            urgency(phq9=phq9(16, 9)),
            urgency(alerts=[alert("max_dose", "moderate")]),
            urgency(changes=[change()]),
            urgency(),
        ]
        critical_lab, contraindicated = ladder[1], ladder[2]
        assert contraindicated > critical_lab  # both critical: the heavier severity first
        ordered = [ladder[0], max(critical_lab, contraindicated), *ladder[3:]]
        assert ordered == sorted(ordered, reverse=True)
        assert len(set(ordered)) == len(ordered)
        assert ladder[-1] == 0

    def test_no_number_of_recent_changes_outranks_a_worsening_score(self) -> None:
        worsening = urgency(phq9=phq9(16, 9))
        for count in (1, 5, 20):
            assert urgency(changes=[change(1 + n / 10) for n in range(count)]) < worsening

    def test_a_row_lists_recent_changes_last_with_who_made_them(self) -> None:
        facts = assess(summary(changes=[change()], phq9=phq9(16, 9)), KINDS, NOW)
        assert [r["kind"] for r in facts["reasons"]] == ["worsening", "recent_changes"]
        assert facts["reasons"][-1]["by"] == "Dr Ada Quill"

    def test_an_alert_reason_carries_its_age(self) -> None:
        [reason] = assess(summary(alerts=[alert("max_dose", "moderate")]), KINDS, NOW)["reasons"]
        assert reason["age_days"] == 2

    def test_a_row_carries_its_latest_scores_and_a_quiet_row_says_so(self) -> None:
        stored = {
            "PHQ-9": {
                "total": 12,
                "band": "moderate",
                "change": -3,
                "trend": [15, 12],
                "at": iso(NOW),
            }
        }
        facts = assess(summary(scores=stored), KINDS, NOW)
        assert facts["quiet"] is True
        assert facts["scores"]["PHQ-9"]["band"] == "moderate"
        assert facts["scores"]["PHQ-9"]["trend"] == [15, 12]
        older = assess(summary(phq9=phq9(14, 12)), KINDS, NOW)  # stored before scores were
        assert older["scores"]["PHQ-9"]["trend"] == [12, 14]


class TestUrgencyArithmetic:
    """The one urgency number sorts exactly as the tiers do, whatever else a row holds."""

    @given(
        item9=st.integers(min_value=1, max_value=3),
        total=st.integers(min_value=3, max_value=27),
        changes=st.integers(min_value=0, max_value=20),
        contraindicated=st.integers(min_value=0, max_value=30),
        other_item9=st.integers(min_value=1, max_value=3),
        other_total=st.integers(min_value=3, max_value=27),
    )
    def test_suicide_risk_ranks_by_item_9_then_total_whatever_else_there_is(
        self,
        item9: int,
        total: int,
        changes: int,
        contraindicated: int,
        other_item9: int,
        other_total: int,
    ) -> None:
        mine = urgency(
            phq9=phq9(total, total, item9=item9),
            changes=[change(1 + n / 10) for n in range(changes)],
            alerts=[alert("interaction", "contraindicated")] * contraindicated,
        )
        theirs = urgency(phq9=phq9(other_total, other_total, item9=other_item9))
        if (item9, total) > (other_item9, other_total):
            assert mine > theirs
        elif (item9, total) < (other_item9, other_total):
            assert mine < theirs
        no_risk = urgency(
            alerts=[alert("interaction", "contraindicated")] * 30,
            changes=[change()] * 20,
            phq9=phq9(27, 9),
        )
        assert mine > no_risk

    @given(
        changes=st.integers(min_value=1, max_value=50),
        moderate_alerts=st.integers(min_value=0, max_value=50),
    )
    def test_no_pile_of_lower_reasons_outranks_one_higher(
        self, changes: int, moderate_alerts: int
    ) -> None:
        pile = urgency(
            changes=[change(1 + n / 100) for n in range(changes)],
            alerts=[alert("max_dose", "moderate")] * moderate_alerts,
        )
        assert pile < urgency(phq9=phq9(16, 9))  # one worsening score
        assert pile < urgency(alerts=[alert("lab_out_of_range", "major")])
