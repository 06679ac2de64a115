"""The plan's core entities: the patient, the care team, break-the-glass grants, medication
orders with their dose steps, safety alerts, and the bookkeeping of corrections (which
event made which entity, and every correction made).

Clinical records (assessments, labs, notes, goals ...) are in ``domain/plan_records.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Required, TypedDict

from domain.plan_entity import (
    Author,
    Correctable,
    Entity,
    Recorded,
    Revive,
    dict_of,
    entities,
    entity,
    member_of,
    revive_with,
    tuple_of,
)
from domain.plan_vocabulary import AlertStatus, OrderStatus, StepKind


class Drug(TypedDict, total=False):
    """The drug as the prescription recorded it: the name typed and the rule pack's
    identity of it (``services/writing/commands.py``'s ``resolve_drug``). Older orders
    lack the keys added since (formulation, mg_per_ml)."""

    name: Required[str]
    generic: str | None
    classes: list[str]
    rxnorm: str | int | None
    in_rule_pack: bool
    formulation: str | None
    ingredients: list[str]  # a combination product's generic names
    mg_per_ml: float  # a liquid's concentration


class Dose(TypedDict):
    """A dose as ``domain/dose.py`` checked it."""

    amount: float
    unit: str


class Continuing(TypedDict):
    """The established therapy an order continues (``domain/continuing.py``)."""

    since: str
    source: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Patient(Entity):
    """Who the record is about, as registered (and corrected). Before registration (a
    state just made, or a view that skipped the registration) it is empty and falsy, as
    the empty dict it replaces was."""

    external_id: str = ""
    name: str = ""
    birth_date: str = ""
    allergies: tuple[str, ...] = ()
    registered_at: datetime | None = None
    corrected: bool = False
    sex_at_birth: str | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = {"allergies": tuple_of}

    @property
    def registered(self) -> bool:
        return self.registered_at is not None

    def __bool__(self) -> bool:
        return self.registered


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CareTeamMember(Entity):
    """A clinician on the care team, from when they joined until they left."""

    clinician_id: str
    name: str
    role: str
    since: datetime
    until: datetime | None
    active: bool
    assigned_by: Author
    removal_reason: str | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = {"assigned_by": entity(Author)}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyAccess(Entity):
    """A break-the-glass grant: who, why, until when."""

    clinician_id: str
    role: str
    reason: str
    granted_at: datetime
    expires_at: datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DoseStep(Correctable):
    """One dose of an order, from its effective time until the next step."""

    kind: StepKind
    dose: Dose
    frequency: str
    reason: str | None

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(
        Correctable, kind=member_of(StepKind), dose=dict_of
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Order(Entity):
    """A medication order: the drug, its dose steps in effective order, and its stop."""

    order_id: str
    drug: Drug
    route: str
    indication: str
    instructions: str
    prescriber: Author
    status: OrderStatus
    since: datetime
    steps: tuple[DoseStep, ...]
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    taper: str | None = None
    override_reason: str | None = None
    corrected: bool = False
    continuing: Continuing | None = None
    stopped_by: Author | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = {
        "drug": dict_of,
        "prescriber": entity(Author),
        "status": member_of(OrderStatus),
        "steps": entities(DoseStep),
        "continuing": dict_of,
        "stopped_by": entity(Author),
    }

    @property
    def current(self) -> DoseStep:
        """The step in effect now (steps are kept in effective order)."""
        return self.steps[-1]

    @property
    def drug_name(self) -> str:
        return str(self.drug["name"])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AlertResolution(Recorded):
    """How an alert was closed: acknowledged, overridden (with a reason), superseded."""

    resolution: str
    reason: str
    action: str | None = None
    result: str | None = None
    superseded_by: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Alert(Recorded):
    """A safety alert the rule pack raised, open until resolved."""

    alert_id: str
    key: str
    rule_id: str
    rule_pack_version: str
    kind: str
    severity: str
    message: str
    action: str
    source: str
    order_ids: tuple[str, ...]
    due_at: datetime | None
    test: str | None
    override_reason: str | None
    status: AlertStatus = AlertStatus.OPEN
    resolution: AlertResolution | None = None

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(
        Recorded,
        order_ids=tuple_of,
        status=member_of(AlertStatus),
        resolution=entity(AlertResolution),
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Source(Entity):
    """Which entity an event made (``kind``: order, step, note ...; ``key``: its id), so
    that a correction of the event patches exactly that entity."""

    type: str
    kind: str
    key: str
    actor_id: str
    note_kind: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Correction(Recorded):
    """A correction as recorded: the event corrected, the fields it changed, why."""

    corrected_event_id: str
    fields: Mapping[str, object]
    reason: str

    REVIVE: ClassVar[Mapping[str, Revive]] = revive_with(Recorded, fields=dict_of)
