"""Properties of the log (hypothesis), through the real transcoder (an in-memory store) and
across snapshots:

- any sequence of valid (and refused) commands replays to the identical state, from the
  events alone and from the latest snapshot, at every version;
- ``History.known_at(T)`` equals the record exactly as it stood after the last write
  recorded by T;
- ``History.in_effect_at(T)``, also as known at an earlier T1, gives every order the dose
  and status of a model that applies the entries known at T1 in clinical-time order, with
  their corrections;
- "in effect at T" does not depend on the order in which late entries were recorded;
- the checkpointed history (a checkpoint every few events, kept across writes) answers
  exactly as the straight folds over the whole stream, and a checkpoint never changes
  once taken, whatever is folded after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import CareLogError
from domain.plan import PlanState
from services.reading.history import History, replay_in_effect_at, replay_known_at
from services.writing.application import CareLogApplication
from tests.unit.record_builder import assign_team, registered

PSY = Actor("psy", Role.PSYCHIATRIST, "P")
THER = Actor("ther", Role.THERAPIST, "T")
PHARM = Actor("pharm", Role.PHARMACIST, "Ph")
START = datetime(2026, 1, 1, tzinfo=UTC)
DRUGS = ("sertraline", "lithium", "quetiapine", "zz-unlisted")
SNAPSHOT_EVERY = 10  # the production interval is 50; a run of 60 steps crosses several
CHECKPOINT_EVERY = 3  # the history's plan checkpoints (256 in production)
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
MED_EVENTS = {
    "MedicationPrescribed": "start",
    "DoseChanged": "change",
    "MedicationDiscontinued": "stop",
}


def fold(events: list[Any]) -> PlanState:
    state = PlanState()
    for event in events:
        state.apply(event)
    return state


def snapshot_of(state: PlanState) -> PlanState:
    return PlanState.from_dict(state.as_dict())


@dataclass
class MedEntry:
    """The model of one medication event: what it says and when it took effect."""

    kind: str
    order_id: str
    effective_at: datetime
    version: int
    amount: float | None


@dataclass
class MedModel:
    """Orders as the model sees them: entries and the corrections made to them."""

    entries: dict[str, MedEntry] = field(default_factory=dict)
    corrections: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def in_effect(self, when: datetime, known_version: int) -> dict[str, tuple[float, str]]:
        entries = {
            event_id: MedEntry(**vars(e))
            for event_id, e in self.entries.items()
            if e.version <= known_version
        }
        for version, event_id, fields in self.corrections:
            if version <= known_version and event_id in entries:
                entry = entries[event_id]
                entry.amount = fields.get("amount", entry.amount)
                entry.effective_at = fields.get("effective_at", entry.effective_at)
        orders: dict[str, list[Any]] = {}
        for e in sorted(entries.values(), key=lambda e: (e.effective_at, e.version)):
            if e.effective_at > when:
                continue
            if e.kind == "start":
                orders[e.order_id] = [e.amount, "active"]
            elif e.order_id in orders and e.kind == "change":
                orders[e.order_id][0] = e.amount
            elif e.order_id in orders:
                orders[e.order_id][1] = "discontinued"
        return {order: (amount, status) for order, (amount, status) in orders.items()}


def medications(state: PlanState) -> dict[str, tuple[float, str]]:
    return {
        order_id: (order.steps[-1].dose["amount"], order.status)
        for order_id, order in state.orders.items()
    }


class LogMachine(RuleBasedStateMachine):
    """Random valid and refused commands against one record on a moving clock."""

    def __init__(self) -> None:
        super().__init__()
        self.app = CareLogApplication(POPO, snapshot_interval=SNAPSHOT_EVERY)
        self.history = History(self.app, checkpoint_every=CHECKPOINT_EVERY)
        self.frozen: dict[int, tuple[PlanState, PlanState]] = {}
        self.now = START
        self.model = MedModel()
        self.saves: list[tuple[datetime, int, PlanState]] = []
        self.record = registered(self.ctx(), "M", "N", "1970-01-01")
        assign_team(self.record, self.ctx(), THER, PHARM)
        self.save()

    # -- helpers ---------------------------------------------------------------------------
    def ctx(self, actor: Actor = PSY) -> CommandContext:
        return CommandContext(actor=actor, now=self.now)

    def ago(self, hours: int) -> datetime:
        return self.now - timedelta(hours=hours)

    def save(self) -> Any:
        event = self.record.pending_events[-1]
        self.app.save(self.record)
        self.saves.append((self.now, self.record.version, snapshot_of(self.record.plan)))
        return event

    def attempt(self, command: Any) -> Any | None:
        """Run a command; refused ones must leave nothing behind. Returns the new event."""
        try:
            command()
        except CareLogError:
            assert not self.record.pending_events, "a refused command left an event"
            return None
        event = self.save()
        kind = MED_EVENTS.get(type(event).__name__)
        if kind is not None:
            amount = event.dose["amount"] if kind != "stop" else None
            self.model.entries[event.event_id] = MedEntry(
                kind, event.order_id, event.effective_at, event.originator_version, amount
            )
        return event

    def orders(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(list(self.record.plan.orders)))

    def known_version(self, when: datetime) -> int:
        return max(version for at, version, _ in self.saves if at <= when)

    # -- time --------------------------------------------------------------------------------
    @rule(hours=st.integers(1, 200))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    # -- medication --------------------------------------------------------------------------
    @rule(drug=st.sampled_from(DRUGS), amount=st.integers(1, 400), late=st.integers(0, 240))
    def prescribe(self, drug: str, amount: int, late: int) -> None:
        self.attempt(
            lambda: self.record.prescribe(
                self.ctx(),
                c.Prescribe(
                    dose=Dose(amount, "mg"),
                    frequency="once daily",
                    route="oral",
                    indication="x",
                    effective_at=self.ago(late),
                    drug=drug,
                ),
                order_id=str(uuid4()),
                drug={"name": drug},
            )
        )

    @precondition(lambda self: self.record.plan.orders)
    @rule(data=st.data(), amount=st.integers(1, 400), late=st.integers(0, 72))
    def change_dose(self, data: st.DataObject, amount: int, late: int) -> None:
        order = self.orders(data)
        self.attempt(
            lambda: self.record.change_dose(
                self.ctx(),
                c.ChangeDose(
                    order_id=order, dose=Dose(amount, "mg"), reason="r", effective_at=self.ago(late)
                ),
            )
        )

    @precondition(lambda self: self.record.plan.orders)
    @rule(data=st.data(), taper=st.booleans(), late=st.integers(0, 72))
    def discontinue(self, data: st.DataObject, taper: bool, late: int) -> None:
        order = self.orders(data)
        self.attempt(
            lambda: self.record.discontinue(
                self.ctx(),
                c.Discontinue(
                    order_id=order,
                    reason="r",
                    taper="halve weekly" if taper else None,
                    effective_at=self.ago(late),
                ),
            )
        )

    @precondition(lambda self: self.record.plan.orders)
    @rule(data=st.data(), taken=st.integers(-1, 30), late=st.integers(0, 72))
    def adherence(self, data: st.DataObject, taken: int, late: int) -> None:
        order = self.orders(data)
        self.attempt(
            lambda: self.record.record_adherence(
                self.ctx(PHARM),
                c.RecordAdherence(
                    order_id=order,
                    doses_taken=taken,
                    doses_missed=1,
                    period_start=date.fromisoformat("2026-01-01"),
                    period_end=date.fromisoformat("2026-01-07"),
                    effective_at=self.ago(late),
                ),
            )
        )

    # -- corrections ---------------------------------------------------------------------------
    def med_entries(self, data: st.DataObject) -> str | None:
        candidates = list(self.model.entries)  # insertion order: ids are random
        return data.draw(st.sampled_from(candidates)) if candidates else None

    @rule(data=st.data(), amount=st.integers(1, 50))
    def correct_a_dose(self, data: st.DataObject, amount: int) -> None:
        event_id = self.med_entries(data)
        if event_id is None or self.model.entries[event_id].kind == "stop":
            return
        event = self.attempt(
            lambda: self.record.correct_entry(
                self.ctx(),
                c.CorrectEntry(
                    event_id=event_id,
                    fields={"dose": {"amount": amount, "unit": "mg"}},
                    reason="typo",
                ),
            )
        )
        if event is not None:
            self.model.corrections.append((event.originator_version, event_id, {"amount": amount}))

    @rule(data=st.data(), late=st.integers(0, 240))
    def correct_an_effective_time(self, data: st.DataObject, late: int) -> None:
        event_id = self.med_entries(data)
        if event_id is None:
            return
        when = self.ago(late)
        event = self.attempt(
            lambda: self.record.correct_entry(
                self.ctx(),
                c.CorrectEntry(
                    event_id=event_id, fields={"effective_at": when}, reason="wrong day"
                ),
            )
        )
        if event is not None:
            self.model.corrections.append(
                (event.originator_version, event_id, {"effective_at": when})
            )

    @rule(unknown=st.sampled_from(["no-such-entry", None]))
    def correct_nothing(self, unknown: str | None) -> None:
        self.attempt(
            lambda: self.record.correct_entry(
                self.ctx(), c.CorrectEntry(event_id=unknown, fields={"route": "oral"}, reason="r")
            )
        )

    # -- assessments, notes, goals, follow-ups, labs, reviews, team -----------------------
    @rule(
        instrument=st.sampled_from(("PHQ-9", "GAD-7")),
        items=st.lists(st.integers(0, 3), min_size=7, max_size=9),
        late=st.integers(0, 120),
    )
    def assessment(self, instrument: str, items: list[int], late: int) -> None:
        self.attempt(
            lambda: self.record.record_assessment(
                self.ctx(THER),
                c.RecordAssessment(
                    instrument=instrument, item_scores=items, effective_at=self.ago(late)
                ),
            )
        )

    @rule(severity=st.sampled_from(("mild", "moderate", "severe", "bogus")))
    def side_effect(self, severity: str) -> None:
        self.attempt(
            lambda: self.record.report_side_effect(
                self.ctx(THER), c.ReportSideEffect(effect="nausea", severity=severity)
            )
        )

    @rule(
        author=st.sampled_from((PSY, THER)),
        kind=st.sampled_from(("progress", "psychotherapy")),
        late=st.integers(0, 48),
    )
    def note(self, author: Actor, kind: str, late: int) -> None:
        self.attempt(
            lambda: self.record.add_note(
                self.ctx(author),
                c.AddNote(kind=kind, modality="CBT", text="t", effective_at=self.ago(late)),
            )
        )

    @rule(late=st.integers(0, 120))
    def set_goal(self, late: int) -> None:
        self.attempt(
            lambda: self.record.set_goal(
                self.ctx(THER), c.SetGoal(description="walk", effective_at=self.ago(late))
            )
        )

    @precondition(lambda self: self.record.plan.goals)
    @rule(
        data=st.data(),
        status=st.sampled_from(("met", "revised", "abandoned", "done")),
        late=st.integers(0, 120),
    )
    def change_goal_status(self, data: st.DataObject, status: str, late: int) -> None:
        goal = data.draw(st.sampled_from(list(self.record.plan.goals)))
        self.attempt(
            lambda: self.record.change_goal_status(
                self.ctx(THER),
                c.ChangeGoalStatus(goal_id=goal, status=status, effective_at=self.ago(late)),
            )
        )

    @rule(days=st.integers(-1, 30), late=st.integers(0, 24))
    def schedule_follow_up(self, days: int, late: int) -> None:
        self.attempt(
            lambda: self.record.schedule_follow_up(
                self.ctx(),
                c.ScheduleFollowUp(
                    due_at=self.now + timedelta(days=days, minutes=1),
                    purpose="check-in",
                    effective_at=self.ago(late),
                ),
            )
        )

    @precondition(lambda self: self.record.plan.follow_ups)
    @rule(data=st.data())
    def complete_follow_up(self, data: st.DataObject) -> None:
        follow_up = data.draw(st.sampled_from(list(self.record.plan.follow_ups)))
        self.attempt(
            lambda: self.record.complete_follow_up(
                self.ctx(), c.CompleteFollowUp(follow_up_id=follow_up, outcome="ok")
            )
        )

    @rule(value=st.one_of(st.none(), st.floats(0, 5), st.just("high")), late=st.integers(0, 48))
    def lab(self, value: Any, late: int) -> None:
        self.attempt(
            lambda: self.record.record_lab_result(
                self.ctx(),
                c.RecordLabResult(
                    test="lithium level", value=value, unit="mmol/L", effective_at=self.ago(late)
                ),
            )
        )

    @rule(late=st.integers(0, 48))
    def review(self, late: int) -> None:
        self.attempt(
            lambda: self.record.review_plan(
                self.ctx(PHARM), c.ReviewPlan(outcome="reviewed", effective_at=self.ago(late))
            )
        )

    @rule(
        code=st.sampled_from(("F50.2", "G40.909", "f03.90", "not-a-code")),
        late=st.integers(0, 120),
    )
    def condition(self, code: str, late: int) -> None:
        self.attempt(
            lambda: self.record.record_condition(
                self.ctx(THER),
                c.RecordCondition(code=code, display="a condition", effective_at=self.ago(late)),
            )
        )

    @precondition(lambda self: self.record.plan.conditions or self.record.plan.assessments)
    @rule(data=st.data(), late=st.integers(0, 48))
    def resolve_condition(self, data: st.DataObject, late: int) -> None:
        ids = [*self.record.plan.conditions, "dx:F32.1", "no-such-condition"]
        condition = data.draw(st.sampled_from(ids))
        self.attempt(
            lambda: self.record.resolve_condition(
                self.ctx(),
                c.ResolveCondition(
                    condition_id=condition, reason="resolved", effective_at=self.ago(late)
                ),
            )
        )

    @rule(
        status=st.sampled_from(("pregnant", "not_pregnant", "lactating", "expecting")),
        late=st.integers(0, 240),
    )
    def pregnancy_status(self, status: str, late: int) -> None:
        self.attempt(
            lambda: self.record.record_pregnancy_status(
                self.ctx(PHARM), c.RecordPregnancyStatus(status=status, effective_at=self.ago(late))
            )
        )

    @rule(
        gene=st.sampled_from(("CYP2D6", "CYP2C19", "HLA-B", "CYP2C9", "")),
        diplotype=st.sampled_from(("*1/*4", "*4/*4", "*1/*99", "*15:02/*40:01", None)),
        phenotype=st.sampled_from(("poor", "Normal metabolizer", "positive", None)),
        late=st.integers(0, 240),
    )
    def pharmacogenomic_result(
        self, gene: str, diplotype: str | None, phenotype: str | None, late: int
    ) -> None:
        self.attempt(
            lambda: self.record.record_pharmacogenomic_result(
                self.ctx(),
                c.RecordPharmacogenomicResult(
                    gene=gene,
                    diplotype=diplotype,
                    phenotype=phenotype,
                    lab="GeneLab",
                    report_date="2025-12-20",
                    effective_at=self.ago(late),
                ),
            )
        )

    @precondition(lambda self: bool(self.record.plan.pharmacogenomics))
    @rule(data=st.data(), diplotype=st.sampled_from(("*1/*1", "*4/*10", "nonsense", None)))
    def correct_a_pharmacogenomic_result(self, data: st.DataObject, diplotype: str | None) -> None:
        results = sorted(self.record.plan.pharmacogenomics.values(), key=lambda r: r.result_id)
        chosen = data.draw(st.sampled_from(results))
        self.attempt(
            lambda: self.record.correct_entry(
                self.ctx(),
                c.CorrectEntry(
                    event_id=chosen.event_id,
                    fields={"diplotype": diplotype},
                    reason="lab amended",
                ),
            )
        )

    @rule(late=st.integers(0, 48))
    def therapist_leaves_or_rejoins(self, late: int) -> None:
        if self.record.is_member(THER.id):
            command: Any = lambda: self.record.remove_care_team_member(  # noqa: E731
                self.ctx(),
                c.RemoveCareTeamMember(
                    clinician_id=THER.id, reason="rota", effective_at=self.ago(late)
                ),
            )
        else:
            command = lambda: self.record.assign_care_team_member(  # noqa: E731
                self.ctx(),
                c.AssignCareTeamMember(
                    clinician_id=THER.id, role="therapist", effective_at=self.ago(late)
                ),
                clinician_name=THER.name,
            )
        self.attempt(command)

    # -- looking back ------------------------------------------------------------------------
    @rule(data=st.data())
    def look_back(self, data: st.DataObject) -> None:
        hours = int((self.now - START).total_seconds() // 3600)
        when = START + timedelta(hours=data.draw(st.integers(0, hours + 24), label="T"))
        known_at = START + timedelta(hours=data.draw(st.integers(0, hours + 24), label="T1"))
        pid = self.record.id

        version = self.known_version(when)
        expected = next(state for at, v, state in reversed(self.saves) if v == version)
        known = self.history.known_at(pid, when)
        assert (known.state, known.version) == (expected, version)
        stream = list(self.app.events.get(pid))
        assert known == replay_known_at(stream, when)
        for moment in (None, known_at):
            assert self.history.in_effect_at(pid, when, moment) == replay_in_effect_at(
                stream, when, moment
            )

        in_effect = self.history.in_effect_at(pid, when, known_at=known_at)
        assert medications(in_effect.state) == self.model.in_effect(
            when, self.known_version(known_at)
        )
        assert medications(self.history.in_effect_at(pid, when).state) == self.model.in_effect(
            when, self.record.version
        )

    # -- invariants ----------------------------------------------------------------------------
    @invariant()
    def replay_rebuilds_the_identical_state(self) -> None:
        stored = list(self.app.events.get(self.record.id))
        assert self.app.repository.get(self.record.id).plan == self.record.plan  # from a snapshot
        assert fold(stored) == self.record.plan  # from the events alone

    @invariant()
    def checkpoints_never_change(self) -> None:
        """Entities are shared between checkpoints: none may change once taken."""
        for timeline in self.history._timelines.values():
            for ladder in (timeline.recorded, timeline.in_effect):
                for checkpoint in ladder.checkpoints:
                    kept = self.frozen.setdefault(
                        id(checkpoint), (checkpoint, snapshot_of(checkpoint))
                    )
                    assert kept[0] is checkpoint
                    assert checkpoint == kept[1]

    @invariant()
    def known_now_is_the_record(self) -> None:
        known = self.history.known_at(self.record.id, self.now)
        assert (known.state, known.version) == (self.record.plan, self.record.version)

    def teardown(self) -> None:
        """Once per run (it is the slow check): every saved version rebuilds as it stood,
        those after a snapshot from the snapshot."""
        hypothesis.event(f"snapshots taken: {self.record.version // SNAPSHOT_EVERY}")
        if self.record.version >= SNAPSHOT_EVERY:
            assert self.app.snapshots is not None
            assert list(self.app.snapshots.get(self.record.id)), "no snapshot was taken"
        for _, version, state in self.saves:
            assert self.history.at_version(self.record.id, version).state == state


TestLogMachine = LogMachine.TestCase
TestLogMachine.settings = settings(
    max_examples=30,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def clinical_picture(state: PlanState) -> Any:
    """What was clinically in effect, without ids or recorded times."""
    meds = sorted(
        (o.drug["name"], o.steps[-1].dose["amount"], o.status) for o in state.orders.values()
    )
    scores = [(a.effective_at, a.total) for a in state.assessments]
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
    app = CareLogApplication(POPO)
    history = History(app)
    pictures = []
    for sequence in (entries, shuffled):
        record = registered(CommandContext(PSY, now=START), "M", "N", "1970-01-01")
        assign_team(record, CommandContext(PSY, now=START), THER)
        now = START + timedelta(days=60)
        record.prescribe(
            CommandContext(PSY, now=now),
            c.Prescribe(
                dose=Dose(doses[0][1], "mg"),
                frequency="once daily",
                route="oral",
                indication="x",
                effective_at=START + timedelta(days=doses[0][0]),
                drug="sertraline",
            ),
            order_id="o1",
            drug={"name": "sertraline"},
        )
        for kind, day, value in sequence:
            now += timedelta(minutes=1)
            ctx = CommandContext(PSY if kind == "dose" else THER, now=now)
            effective = START + timedelta(days=day)
            if kind == "dose":
                record.change_dose(
                    ctx,
                    c.ChangeDose(
                        order_id="o1", dose=Dose(value, "mg"), reason="r", effective_at=effective
                    ),
                )
            else:
                items = [min(3, max(0, value - 3 * i)) for i in range(9)]
                record.record_assessment(
                    ctx,
                    c.RecordAssessment(
                        instrument="PHQ-9", item_scores=items, effective_at=effective
                    ),
                )
        app.save(record)
        pictures.append(clinical_picture(history.in_effect_at(record.id, moment).state))
    assert pictures[0] == pictures[1]
    expected = [amount for day, amount in doses if START + timedelta(days=day) <= moment]
    medications = pictures[0][0]
    assert [m[1] for m in medications] == ([float(expected[-1])] if expected else [])
