"""Every event the aggregate defines is handled by class in the fold and named in every
view: a new event without a handler, or that a view has not decided about, fails here
rather than being silently ignored."""

from __future__ import annotations

import pytest
from eventsourcing.domain import Aggregate

from domain.patient_record import PatientRecord
from domain.plan_fold import handlers, type_name
from projections.audit_details import SAFE_FIELDS
from projections.dashboard_summary import SUMMARY
from projections.plan_document import DOCUMENT
from projections.treatment_trials import MOVES_TRIALS

NOT_RECORDED = {PatientRecord.Created, PatientRecord.Event}
"""The library's creation event (registration is ``PatientRegistered``) and the base of
the later events: neither is ever recorded."""

EVENTS = sorted(
    (
        cls
        for cls in vars(PatientRecord).values()
        if isinstance(cls, type) and issubclass(cls, Aggregate.Event) and cls not in NOT_RECORDED
    ),
    key=lambda cls: cls.__name__,
)

VIEWS = {
    "current_plan": DOCUMENT.affects,
    "team_dashboard": SUMMARY.affects,
    "treatment_trials": MOVES_TRIALS,
    "audit_trail": SAFE_FIELDS,
}
"""Each view's table of the event types it knows (what each can change, or show)."""


class TestEveryEventIsHandled:
    def test_the_aggregate_defines_the_events_we_expect(self) -> None:
        assert len(EVENTS) == 28
        assert PatientRecord.PatientRegistered in EVENTS

    @pytest.mark.parametrize("event", EVENTS, ids=lambda cls: cls.__name__)
    def test_the_fold_has_a_handler_for_the_event_class(self, event: type) -> None:
        assert event in handlers(), f"PlanState's fold has no handler for {event.__name__}"

    @pytest.mark.parametrize("view", sorted(VIEWS))
    def test_every_view_names_every_event_type(self, view: str) -> None:
        missing = sorted(
            name for name in (type_name(cls) for cls in EVENTS) if name not in VIEWS[view]
        )
        assert missing == [], f"the {view} view does not say what {missing} change"

    def test_the_fold_handles_nothing_the_aggregate_does_not_define(self) -> None:
        assert set(handlers()) == set(EVENTS)
