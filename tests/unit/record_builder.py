"""The arrange steps the unit tests' records and stories begin with: a patient registered by
a clinician (a date of birth as ISO text), the usual 50 mg sertraline prescription, and a
FHIR story whose first event is that registration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

from domain import commands as c
from domain.actor import Actor
from domain.command_context import CommandContext
from domain.patient_record import PatientRecord
from tests import patient_writes
from tests.fhir_support import PSY, Story, day


def registered(
    context: CommandContext,
    external_id: str = "MRN-1",
    name: str = "Test One",
    birth_date: str = "1980-01-02",
    allergies: Sequence[str] | None = None,
) -> PatientRecord:
    """A new record, its registration still pending."""
    command = registration(external_id, name, birth_date, allergies)
    return PatientRecord.register(context, command, patient_id=uuid4())


def registration(
    external_id: str = "MRN-1",
    name: str = "Test One",
    birth_date: str = "1980-01-02",
    allergies: Sequence[str] | None = None,
) -> c.RegisterPatient:
    """The command registering a patient born on ``birth_date`` (ISO text)."""
    return patient_writes.registration(external_id, name, birth_date, allergies=allergies)


def assign_team(record: PatientRecord, context: CommandContext, *members: Actor) -> None:
    """Each member joins the care team in the role their account has."""
    for actor in members:
        record.assign_care_team_member(
            context,
            c.AssignCareTeamMember(clinician_id=actor.id, role=str(actor.role)),
            clinician_name=actor.name,
        )


FINDING: dict[str, Any] = {
    "key": "k",
    "rule_id": "R1",
    "kind": "interaction",
    "severity": "major",
    "message": "m",
    "action": "a",
    "source": "s",
    "order_ids": (),
    "due_at": None,
    "test": None,
}


def a_finding(**fields: Any) -> SimpleNamespace:
    """A finding of the safety rules as ``raise_alert`` reads it: a major interaction
    unless ``fields`` say otherwise."""
    return SimpleNamespace(**{**FINDING, **fields})


def sertraline(indication: str = "depression") -> c.Prescribe:
    """Sertraline 50 mg once daily by mouth."""
    return patient_writes.prescription(indication=indication)


def new_story(
    external_id: str,
    name: str,
    birth_date: str = "1980-01-01",
    allergies: Sequence[str] | None = None,
) -> Story:
    """A story that starts with the patient registered by the psychiatrist on day 0."""
    record = registered(CommandContext(PSY, now=day(0)), external_id, name, birth_date, allergies)
    story = Story(record)
    story.events.extend(record.collect_events())
    return story


def prescribed(
    story: Story,
    drug: Any,
    dose: dict[str, Any],
    indication: str = "depression",
    when: datetime | None = None,
    name: str = "rx",
    order_id: str | None = None,
) -> str:
    """The psychiatrist prescribes, once daily by mouth (on day 1 unless ``when`` says)."""
    return story.act(
        name,
        PSY,
        day(1) if when is None else when,
        "prescribe",
        order_id=order_id or str(uuid4()),
        drug=drug,
        dose=dose,
        frequency="once daily",
        route="oral",
        indication=indication,
    )
