"""What the plan and dashboard views store: re-rendering only the parts a batch's events can
change gives exactly what rendering everything gives, wherever the batches break; times
are stored fixed-width in UTC; audit details never carry clinical text."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.plan import event_type
from projections.audit_details import SAFE_FIELDS, event_details
from projections.dashboard_summary import SUMMARY
from projections.feed import Item
from projections.plan_document import DOCUMENT
from projections.plan_states import Folded, fold, iso
from tests.unit.record_builder import a_finding, assign_team, registered, sertraline

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PSY = Actor("psy-1", Role.PSYCHIATRIST, "Dr P")
THER = Actor("ther-1", Role.THERAPIST, "T")
FREE_TEXT = {
    "text",
    "reason",
    "summary",
    "message",
    "note",
    "outcome",
    "purpose",
    "description",
    "instructions",
    "indication",
    "effect",
    "action_taken",
    "materials",
    "topic",
    "value",
    "target",
    "action",
    "source",
}


def a_history() -> list[Any]:
    """Every kind of plan change, corrections and late entries included."""
    clock = iter(T0 + timedelta(hours=n) for n in range(1000))

    def ctx(actor: Actor = PSY) -> CommandContext:
        return CommandContext(actor=actor, now=next(clock))

    rec = registered(ctx())
    assign_team(rec, ctx(), THER)
    order = str(uuid4())
    rec.prescribe(ctx(), sertraline(), order_id=order, drug={"name": "sertraline"})
    for scores in ([2] * 9, [1] * 8 + [0], [3] * 8 + [1]):
        rec.record_assessment(ctx(THER), c.RecordAssessment(instrument="PHQ-9", item_scores=scores))
    rec.change_dose(ctx(), c.ChangeDose(order_id=order, dose=Dose(100, "mg"), reason="r"))
    late = ctx(THER)
    rec.record_assessment(
        late,
        c.RecordAssessment(
            instrument="PHQ-9", item_scores=[0] * 9, effective_at=late.now - timedelta(days=3)
        ),
    )
    rec.report_side_effect(
        ctx(THER), c.ReportSideEffect(effect="rash", severity="severe", order_id=order)
    )
    rec.schedule_follow_up(
        ctx(), c.ScheduleFollowUp(due_at=(T0 + timedelta(days=30)).isoformat(), purpose="p")
    )
    finding = a_finding(order_ids=(order,))
    alert = rec.raise_alert(ctx(), finding=finding, rule_pack_version="1")
    rec.add_note(ctx(THER), c.AddNote(kind="psychotherapy", modality="CBT", text="private words"))
    rec.set_goal(ctx(THER), c.SetGoal(description="walk daily", target="5 days a week"))
    rec.record_consent(ctx(), c.RecordConsent(scope="treatment", decision="granted"))
    assessment = rec.plan.assessments[-1].event_id
    rec.correct_entry(
        ctx(THER),
        c.CorrectEntry(event_id=assessment, fields={"item_scores": [1] * 9}, reason="typo"),
    )
    rec.resolve_alert(ctx(), c.ResolveAlert(alert_id=alert, resolution="acknowledged", reason="ok"))
    rec.remove_care_team_member(
        ctx(), c.RemoveCareTeamMember(clinician_id=THER.id, reason="handover")
    )
    rec.discontinue(ctx(), c.Discontinue(order_id=order, reason="done", taper="over a week"))
    rec.record_assessment(
        ctx(), c.RecordAssessment(instrument="clinical", diagnoses=["F50.2", "F32.1"])
    )
    rec.record_condition(ctx(), c.RecordCondition(code="G40.909", display="Epilepsy"))
    rec.record_condition(ctx(), c.RecordCondition(code="I45.81", display="Long QT syndrome"))
    rec.resolve_condition(ctx(), c.ResolveCondition(condition_id="dx:F32.1", reason="remission"))
    [epilepsy] = [c for c in rec.plan.conditions.values() if c.code == "G40.909"]
    rec.resolve_condition(
        ctx(), c.ResolveCondition(condition_id=epilepsy.condition_id, reason="entered in error")
    )
    rec.record_sex_at_birth(ctx(), c.RecordSexAtBirth(sex_at_birth="female"))
    rec.record_pregnancy_status(ctx(), c.RecordPregnancyStatus(status="pregnant"))
    rec.record_pregnancy_status(ctx(), c.RecordPregnancyStatus(status="lactating"))
    return list(rec.collect_events())


HISTORY = a_history()


def items(events: list[Any], start: int = 1) -> list[Item]:
    return [Item(n, "t", e, None, str(e.originator_id)) for n, e in enumerate(events, start)]


class TestSections:
    @settings(max_examples=60, deadline=None)
    @given(cuts=st.lists(st.integers(1, len(HISTORY) - 1), max_size=8, unique=True))
    def test_rendering_only_the_changed_parts_equals_rendering_everything(
        self, cuts: list[int]
    ) -> None:
        bounds = [0, *sorted(cuts), len(HISTORY)]
        for sections in (DOCUMENT, SUMMARY):
            states: dict[str, Folded] = {}
            for start, end in itertools.pairwise(bounds):
                changed = fold(states, items(HISTORY[start:end], start + 1))
                for pid, kinds in changed.items():
                    partial = sections.encode(pid, states[pid], kinds)
                    whole = sections.encode(pid, Folded(states[pid].plan), None)
                    assert json.loads(partial) == json.loads(whole)

    def test_every_event_type_is_known_to_both_documents(self) -> None:
        types = {event_type(e) for e in HISTORY} - {"EntryCorrected"}
        assert types <= set(DOCUMENT.affects)
        assert types <= set(SUMMARY.affects)

    def test_the_stored_plan_never_holds_note_text(self) -> None:
        states: dict[str, Folded] = {}
        fold(states, items(HISTORY))
        [(pid, folded)] = states.items()
        assert "private words" not in DOCUMENT.encode(pid, folded, None)
        assert "private words" not in SUMMARY.encode(pid, folded, None)


class TestStoredTimes:
    def test_times_are_fixed_width_utc_so_text_order_is_time_order(self) -> None:
        times = [
            datetime(2026, 1, 1, 0, 0, tzinfo=UTC),
            datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
            datetime(2026, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 1, 1, 1, 0, tzinfo=UTC),
        ]
        texts = [iso(t) for t in times]
        assert len({len(t) for t in texts if t}) == 1
        assert sorted(texts) == [iso(t) for t in sorted(times)]  # type: ignore[type-var]
        assert texts[2] == "2026-01-01T00:30:00.000000+00:00"
        assert iso(None) is None


class TestAuditDetails:
    def test_no_event_type_puts_clinical_text_in_the_audit_trail(self) -> None:
        for kind, fields in SAFE_FIELDS.items():
            assert not FREE_TEXT.intersection(fields), kind

    def test_details_name_the_entry_but_not_its_words(self) -> None:
        for event in HISTORY:
            details = json.dumps(event_details(event_type(event), event), default=str)
            assert "private words" not in details
            assert "typo" not in details
            assert "handover" not in details
            assert event.event_id in details
