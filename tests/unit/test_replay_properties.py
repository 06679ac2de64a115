"""Properties of the log (hypothesis):

- any sequence of valid commands replays to the identical state, through the real
  transcoder (an in-memory store);
- "as known at T" equals the state built from only the events recorded up to T;
- "in effect at T" does not depend on the order in which late entries were recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.errors import CareLogError
from domain.patient_record import PatientRecord
from domain.plan import PlanState
from services.application import CareLogApplication
from services.history import in_effect_order

PSY = Actor("psy", Role.PSYCHIATRIST, "P")
THER = Actor("ther", Role.THERAPIST, "T")
START = datetime(2026, 1, 1, tzinfo=UTC)
DRUGS = ("sertraline", "lithium", "quetiapine", "zz-unlisted")


def fold(events: list[Any]) -> PlanState:
    state = PlanState()
    for event in events:
        state.apply(event)
    return state


class LogMachine(RuleBasedStateMachine):
    """Random valid (and some invalid) commands against one record on a moving clock."""

    def __init__(self) -> None:
        super().__init__()
        self.app = CareLogApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.now = START
        self.record = PatientRecord.register(
            self.ctx(), patient_id=uuid4(), external_id="M", name="N", birth_date="1970-01-01"
        )
        self.record.assign_care_team_member(
            self.ctx(), clinician_id=THER.id, clinician_name="T", role="therapist"
        )
        self.app.save(self.record)

    def ctx(self, actor: Actor = PSY) -> CommandContext:
        return CommandContext(actor=actor, now=self.now)

    def attempt(self, command: Any) -> None:
        try:
            command()
        except CareLogError:
            assert not self.record.pending_events, "a refused command left an event"
            return
        self.app.save(self.record)

    @rule(hours=st.integers(1, 200))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(drug=st.sampled_from(DRUGS), amount=st.integers(1, 400), late=st.integers(0, 10))
    def prescribe(self, drug: str, amount: int, late: int) -> None:
        self.attempt(
            lambda: self.record.prescribe(
                self.ctx(),
                order_id=str(uuid4()),
                drug={"name": drug},
                dose={"amount": amount, "unit": "mg"},
                frequency="once daily",
                route="oral",
                indication="x",
                effective_at=self.now - timedelta(days=late),
            )
        )

    @precondition(lambda self: self.record.plan.orders)
    @rule(data=st.data(), amount=st.integers(1, 400), late=st.integers(0, 3))
    def change_dose(self, data: st.DataObject, amount: int, late: int) -> None:
        order = data.draw(st.sampled_from(sorted(self.record.plan.orders)))
        self.attempt(
            lambda: self.record.change_dose(
                self.ctx(),
                order_id=order,
                dose={"amount": amount, "unit": "mg"},
                reason="r",
                effective_at=self.now - timedelta(days=late),
            )
        )

    @precondition(lambda self: self.record.plan.orders)
    @rule(data=st.data(), taper=st.booleans())
    def discontinue(self, data: st.DataObject, taper: bool) -> None:
        order = data.draw(st.sampled_from(sorted(self.record.plan.orders)))
        self.attempt(
            lambda: self.record.discontinue(
                self.ctx(), order_id=order, reason="r", taper="halve weekly" if taper else None
            )
        )

    @rule(items=st.lists(st.integers(0, 3), min_size=9, max_size=9), late=st.integers(0, 5))
    def phq9(self, items: list[int], late: int) -> None:
        self.attempt(
            lambda: self.record.record_assessment(
                self.ctx(THER),
                instrument="PHQ-9",
                item_scores=items,
                effective_at=self.now - timedelta(days=late),
            )
        )

    @rule(severity=st.sampled_from(("mild", "moderate", "severe", "bogus")))
    def side_effect(self, severity: str) -> None:
        self.attempt(
            lambda: self.record.report_side_effect(
                self.ctx(THER), effect="nausea", severity=severity
            )
        )

    @precondition(lambda self: len(self.record.plan.sources) > 2)
    @rule(data=st.data(), amount=st.integers(1, 50))
    def correct_a_dose(self, data: st.DataObject, amount: int) -> None:
        candidates = sorted(
            e
            for e, s in self.record.plan.sources.items()
            if s["type"] in {"MedicationPrescribed", "DoseChanged"}
        )
        if candidates:
            event_id = data.draw(st.sampled_from(candidates))
            self.attempt(
                lambda: self.record.correct_entry(
                    self.ctx(),
                    event_id=event_id,
                    fields={"dose": {"amount": amount, "unit": "mg"}},
                    reason="typo",
                )
            )

    def stored(self) -> list[Any]:
        return list(self.app.events.get(self.record.id))

    @invariant()
    def replay_rebuilds_the_identical_state(self) -> None:
        replayed = self.app.repository.get(self.record.id)
        assert replayed.plan == self.record.plan
        assert fold(self.stored()) == self.record.plan

    @invariant()
    def known_at_equals_the_events_recorded_until_then(self) -> None:
        events = self.stored()
        cut = events[len(events) // 2]
        known = [e for e in events if e.timestamp <= cut.timestamp]
        version = known[-1].originator_version
        assert fold(known) == self.app.repository.get(self.record.id, version=version).plan


TestLogMachine = LogMachine.TestCase
TestLogMachine.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def clinical_picture(state: PlanState) -> Any:
    """What was clinically in effect, without ids or recorded times."""
    meds = sorted(
        (o["drug"]["name"], o["steps"][-1]["dose"]["amount"], o["status"])
        for o in state.orders.values()
    )
    scores = [(a["effective_at"], a["total"]) for a in state.assessments]
    return meds, scores


@settings(max_examples=60, deadline=None)
@given(
    doses=st.lists(
        st.tuples(st.integers(1, 30), st.integers(1, 500)),
        min_size=1,
        max_size=6,
        unique_by=(lambda d: d[0], lambda d: d[1]),
    ),
    scores=st.lists(
        st.tuples(st.integers(1, 30), st.integers(0, 27)), max_size=5, unique_by=lambda s: s[0]
    ),
    order=st.randoms(use_true_random=False),
    when=st.integers(0, 40),
)
def test_in_effect_at_is_independent_of_the_order_late_entries_were_recorded(
    doses: list[tuple[int, int]], scores: list[tuple[int, int]], order: Any, when: int
) -> None:
    doses = sorted(doses)  # distinct days and amounts: every entry is valid in any order
    entries = [("dose", day, amount) for day, amount in doses[1:]] + [
        ("phq", day, total) for day, total in scores
    ]
    shuffled = list(entries)
    order.shuffle(shuffled)
    moment = START + timedelta(days=when)
    pictures = []
    for sequence in (entries, shuffled):
        record = PatientRecord.register(
            CommandContext(PSY, now=START),
            patient_id=uuid4(),
            external_id="M",
            name="N",
            birth_date="1970-01-01",
        )
        record.assign_care_team_member(
            CommandContext(PSY, now=START),
            clinician_id=THER.id,
            clinician_name="T",
            role="therapist",
        )
        now = START + timedelta(days=60)
        record.prescribe(
            CommandContext(PSY, now=now),
            order_id="o1",
            drug={"name": "sertraline"},
            dose={"amount": doses[0][1], "unit": "mg"},
            frequency="once daily",
            route="oral",
            indication="x",
            effective_at=START + timedelta(days=doses[0][0]),
        )
        for kind, day, value in sequence:
            now += timedelta(minutes=1)
            ctx = CommandContext(PSY if kind == "dose" else THER, now=now)
            effective = START + timedelta(days=day)
            if kind == "dose":
                record.change_dose(
                    ctx,
                    order_id="o1",
                    dose={"amount": value, "unit": "mg"},
                    reason="r",
                    effective_at=effective,
                )
            else:
                items = [min(3, max(0, value - 3 * i)) for i in range(9)]
                record.record_assessment(
                    ctx, instrument="PHQ-9", item_scores=items, effective_at=effective
                )
        events = record.collect_events()
        pictures.append(clinical_picture(fold(in_effect_order(events, moment))))
    assert pictures[0] == pictures[1]
    expected = [amount for day, amount in doses if START + timedelta(days=day) <= moment]
    medications = pictures[0][0]
    assert [m[1] for m in medications] == ([float(expected[-1])] if expected else [])
