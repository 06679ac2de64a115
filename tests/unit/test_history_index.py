"""The checkpointed history (services/reading/history_index.py) against the straight folds.

The state machine in test_replay_properties.py compares them on a moving clock; here the
cases it cannot reach: writes whose recorded times are out of version order (a decision
made before another but saved after it), an effective time corrected after the T1 of a
bitemporal query, and the memory budget across patients.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.actor import Actor, Role
from domain.command_context import CommandContext
from domain.dose import Dose
from domain.errors import CareLogError
from domain.patient_record import PatientRecord
from services.reading.history import History, replay_in_effect_at, replay_known_at
from services.writing.application import CareLogApplication
from tests.unit.record_builder import registered, sertraline

PSY = Actor("psy", Role.PSYCHIATRIST, "P")
START = datetime(2026, 1, 1, tzinfo=UTC)
POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

STEP = st.tuples(
    st.sampled_from(["phq", "dose", "note", "move", "fix"]),
    st.integers(-48, 72),  # recorded: hours after the previous write (negative: decided earlier)
    st.integers(0, 300),  # effective: hours before it was recorded (late entry)
    st.integers(0, 27),
)


def register(app: CareLogApplication) -> PatientRecord:
    ctx = CommandContext(PSY, now=START)
    record = registered(ctx, "X", "N", "1970-01-01")
    record.prescribe(ctx, sertraline(indication="x"), order_id="o1", drug={"name": "sertraline"})
    app.save(record)
    return record


def write(
    app: CareLogApplication, record: PatientRecord, step: tuple[Any, ...], now: datetime
) -> None:
    kind, _, late, value = step
    ctx = CommandContext(PSY, now=now)
    effective = now - timedelta(hours=late)
    entries = [e for e, s in record.plan.sources.items() if s.kind in {"step", "assessment"}]
    try:
        if kind == "phq":
            record.record_assessment(
                ctx,
                c.RecordAssessment(
                    instrument="PHQ-9", item_scores=[value % 4] * 9, effective_at=effective
                ),
            )
        elif kind == "dose":
            record.change_dose(
                ctx,
                c.ChangeDose(
                    order_id="o1",
                    dose=Dose(10 + value, "mg"),
                    reason="titration",
                    effective_at=effective,
                ),
            )
        elif kind == "note":
            record.add_note(
                ctx, c.AddNote(kind="progress", modality="CBT", text="t", effective_at=effective)
            )
        elif entries:  # move: correct an effective time; fix: correct a value
            event_id = entries[value % len(entries)]
            fields: dict[str, Any] = (
                {"effective_at": effective}
                if kind == "move"
                else {"item_scores": [1] * 9}
                if record.plan.sources[event_id].kind == "assessment"
                else {"dose": {"amount": 5 + value, "unit": "mg"}}
            )
            record.correct_entry(ctx, c.CorrectEntry(event_id=event_id, fields=fields, reason="r"))
    except CareLogError:
        record.collect_events()  # refused: nothing to save
        return
    if record.pending_events:
        app.save(record)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(STEP, min_size=1, max_size=40),
    moments=st.lists(
        st.tuples(st.integers(-24, 1200), st.integers(-24, 1200)), min_size=3, max_size=8
    ),
    every=st.integers(1, 5),
)
def test_checkpointed_answers_are_the_straight_folds(
    steps: list[tuple[Any, ...]], moments: list[tuple[int, int]], every: int
) -> None:
    app = CareLogApplication(POPO)
    history = History(app, checkpoint_every=every)
    record = register(app)
    now = START
    half = len(steps) // 2
    for i, step in enumerate(steps):
        now = max(START, now + timedelta(hours=step[1]))
        write(app, record, step, now)
        if i in (half, len(steps) - 1):  # ask halfway (the timeline then catches up) and at the end
            stream = list(app.events.get(record.id))
            for t, t1 in moments:
                when, known_at = START + timedelta(hours=t), START + timedelta(hours=t1)
                assert history.known_at(record.id, when) == replay_known_at(stream, when)
                for moment in (None, known_at):
                    assert history.in_effect_at(record.id, when, moment) == replay_in_effect_at(
                        stream, when, moment
                    )
            assert history.events(record.id) == stream


def test_a_decision_saved_after_a_later_one_is_known_from_its_own_recorded_time() -> None:
    app = CareLogApplication(POPO)
    history = History(app, checkpoint_every=1)
    record = register(app)
    for hours, amount in ((10, 100), (5, 75)):  # the 75 mg change was decided first, saved last
        now = START + timedelta(hours=hours)
        record.change_dose(
            CommandContext(PSY, now=now),
            c.ChangeDose(order_id="o1", dose=Dose(amount, "mg"), reason="r"),
        )
        app.save(record)

    def dose(when: datetime) -> float:
        state = history.known_at(record.id, when).state
        return float(state.orders["o1"].steps[-1].dose["amount"])

    assert dose(START + timedelta(hours=6)) == 75  # known from hour 5, though saved last
    assert history.known_at(record.id, START + timedelta(hours=6)).version == 5
    assert dose(START + timedelta(hours=11)) == 100  # in effect since hour 10


def test_memory_holds_at_most_the_budget_and_answers_beyond_it() -> None:
    app = CareLogApplication(POPO)
    history = History(app, cached_events=8, checkpoint_every=2)
    records = [register(app) for _ in range(3)]  # 3 events each (Created, registered, start)
    for record in records:
        history.known_at(record.id, START)
    held = history._timelines
    assert sum(t.version for t in held.values()) <= 8
    assert list(held) == [records[1].id, records[2].id]  # the least recently used went first

    long = records[0]
    for hour in range(1, 12):
        write(app, long, ("phq", 1, 0, hour), START + timedelta(hours=hour))
    later = START + timedelta(hours=20)
    stream = list(app.events.get(long.id))
    assert history.known_at(long.id, later) == replay_known_at(stream, later)
    assert long.id not in history._timelines  # above the whole budget: answered, not kept
