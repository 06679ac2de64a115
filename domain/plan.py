"""The patient's plan as a fold over the log: the one place events become state.

The aggregate applies events in recorded order; the history queries apply the same events
in effective order (the "in effect at T" clock). Both go through ``PlanState.apply``, so
the two clocks can never disagree about what an event means. The fold itself (one
handler per event class) is ``domain/plan_fold.py``; corrections are
``domain/plan_corrections.py``; the entities are ``domain/plan_entities.py`` and
``domain/plan_records.py``. Entities remember the event that created them, so a
correction patches exactly what that event said, wherever it falls among later changes.

An entity (an order, an assessment, a care-team member) is a frozen dataclass: a change
stores a changed copy in its place. That is what lets ``PlanState.branch`` copy only the
collections and share every entity, so the history can keep a plan checkpoint every few
events of a long record without copying the record each time
(``services/reading/history_index.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from domain.json_value import JsonObject
from domain.plan_corrections import CORRECTABLE_FIELDS
from domain.plan_entities import (
    Alert,
    CareTeamMember,
    Correction,
    EmergencyAccess,
    Order,
    Patient,
    Source,
)
from domain.plan_entity import Entity, plain
from domain.plan_fold import event_type, fold_event
from domain.plan_records import (
    Adherence,
    Assessment,
    Condition,
    Consent,
    Education,
    Fact,
    FollowUp,
    Goal,
    Lab,
    Note,
    PharmacogenomicResult,
    Pregnancy,
    Review,
    SideEffect,
)

__all__ = ["CORRECTABLE_FIELDS", "PlanState", "event_type"]

_COLLECTIONS: dict[str, type[Entity]] = {
    "care_team": CareTeamMember,
    "emergency_access": EmergencyAccess,
    "consents": Consent,
    "assessments": Assessment,
    "goals": Goal,
    "orders": Order,
    "side_effects": SideEffect,
    "adherence": Adherence,
    "alerts": Alert,
    "notes": Note,
    "education": Education,
    "follow_ups": FollowUp,
    "reviews": Review,
    "labs": Lab,
    "facts": Fact,
    "sources": Source,
    "corrections": Correction,
    "conditions": Condition,
    "pharmacogenomics": PharmacogenomicResult,
}
"""Each collection of entities and the entity it holds (a dict by id, or a list)."""


def _stored(entity: object) -> Mapping[str, object]:
    """One entity as a snapshot stores it: a plain dict."""
    return cast(Mapping[str, object], entity)


class PlanState:
    """Everything CareLog knows about one patient's care, as of the events applied."""

    def __init__(self) -> None:
        self.patient = Patient()  # empty (falsy) until registered
        self.care_team: dict[str, CareTeamMember] = {}  # by clinician id
        self.emergency_access: dict[str, EmergencyAccess] = {}  # by clinician id
        self.consents: list[Consent] = []
        self.assessments: list[Assessment] = []  # effective order
        self.goals: dict[str, Goal] = {}
        self.orders: dict[str, Order] = {}
        self.side_effects: list[SideEffect] = []
        self.adherence: list[Adherence] = []
        self.alerts: dict[str, Alert] = {}
        self.notes: dict[str, Note] = {}
        self.education: list[Education] = []
        self.follow_ups: dict[str, FollowUp] = {}
        self.reviews: list[Review] = []
        self.labs: list[Lab] = []  # effective order
        self.facts: dict[str, Fact] = {}  # by fact name: the latest value
        self.sources: dict[str, Source] = {}  # event id -> the entity it made
        self.corrections: list[Correction] = []
        self.conditions: dict[str, Condition] = {}
        self.resolved_diagnoses: dict[str, datetime] = {}  # assessment code -> resolved at
        self.pregnancy: Pregnancy | None = None
        self.pharmacogenomics: dict[str, PharmacogenomicResult] = {}  # by result id
        self.earliest_entry_at: datetime | None = None  # earliest clinical time of any entry

    @property
    def birth_date(self) -> str | None:
        """The patient's birth date as registered (None before registration)."""
        return self.patient.birth_date or None

    # -- snapshots and copies --------------------------------------------------------------
    def as_dict(self) -> JsonObject:
        """The state as plain dicts and lists: what a snapshot stores (the same shape
        the state had before its entities were dataclasses, so either loads)."""
        out = {name: plain(value) for name, value in vars(self).items()}
        out["patient"] = out["patient"] if self.patient else {}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PlanState:
        """A state from ``as_dict`` or from any older snapshot (entities as plain dicts,
        collections added since then missing; times as the snapshot's transcoder revives
        them)."""
        state = cls()
        patient = data.get("patient")
        state.patient = Patient.from_dict(_stored(patient)) if patient else Patient()
        for name, kind in _COLLECTIONS.items():
            stored = data.get(name)
            if isinstance(stored, Mapping):
                setattr(state, name, {k: kind.from_dict(_stored(v)) for k, v in stored.items()})
            elif isinstance(stored, list):
                setattr(state, name, [kind.from_dict(_stored(v)) for v in stored])
        resolved = cast(Mapping[str, datetime] | None, data.get("resolved_diagnoses"))
        state.resolved_diagnoses = dict(resolved or {})
        pregnancy = data.get("pregnancy")
        state.pregnancy = Pregnancy.from_dict(_stored(pregnancy)) if pregnancy else None
        state.earliest_entry_at = cast(datetime | None, data.get("earliest_entry_at"))
        return state

    def branch(self) -> PlanState:
        """A state that folds on independently of this one, sharing its entities.

        Costs one copy of each collection (pointers, not entities): entities are frozen,
        so neither state's later events can reach the other."""
        state = PlanState.__new__(PlanState)
        state.__dict__.update(
            {k: v.copy() if isinstance(v, dict | list) else v for k, v in vars(self).items()}
        )
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlanState) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    # -- applying events -------------------------------------------------------------------
    def apply(self, event: object) -> None:
        """Fold one event into the state. Unknown references are ignored, never fatal:
        a rule tightened later must not stop an old log from replaying."""
        fold_event(self, event)

    def note_earliest(self, *times: object) -> None:
        """Keep the earliest clinical time of any entry (a corrected one included), so a
        birth date corrected to after it can be refused."""
        for at in times:
            if isinstance(at, datetime) and (
                self.earliest_entry_at is None or at < self.earliest_entry_at
            ):
                self.earliest_entry_at = at
