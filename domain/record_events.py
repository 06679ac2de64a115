"""The patient's registration, the base of every later event, and the events about who
cares for the patient and who the patient is: the care team, emergency access, consent,
corrections, the problem list, sex at birth, pregnancy and pharmacogenomic results.

The events of care itself (assessments, medication, alerts, everyday entries) are in
``domain/care_events.py``; ``domain/patient_events.py`` names them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.plan import PlanState

if TYPE_CHECKING:
    from domain.patient_record import PatientRecord


class PatientRegistered(Aggregate.Created):
    """A patient entered CareLog: external id (MRN), name, birth date, allergies."""

    TOPIC = "carelog.PatientRegistered"
    event_id: str
    actor_id: str
    actor_role: str
    effective_at: datetime
    correlation_id: str
    external_id: str
    name: str
    birth_date: str
    allergies: list[str]
    # Added later, with a default so that older logs replay: whether allergies were
    # asked at all (True: ``allergies`` is the answer, [] meaning no known allergies;
    # None: not recorded, as every registration before this field).
    allergies_recorded: bool | None = None

    def apply(self, aggregate: PatientRecord) -> None:
        aggregate.plan = PlanState()
        aggregate.plan.apply(self)


class Event(Aggregate.Event):
    """Base of every later event: the metadata that every clinical fact carries."""

    TOPIC = "carelog.PatientRecord.Event"
    event_id: str
    actor_id: str
    actor_role: str
    effective_at: datetime
    correlation_id: str

    def apply(self, aggregate: PatientRecord) -> None:
        aggregate.plan.apply(self)


class CareTeamMemberAssigned(Event):
    """A clinician joined the care team and may now see and write the record."""

    TOPIC = "carelog.CareTeamMemberAssigned"
    clinician_id: str
    clinician_name: str
    role: str


class CareTeamMemberRemoved(Event):
    """A clinician left the care team; their later writes are refused."""

    TOPIC = "carelog.CareTeamMemberRemoved"
    clinician_id: str
    reason: str


class EmergencyAccessGranted(Event):
    """Break the glass: time-limited access with a stated reason, flagged for review."""

    TOPIC = "carelog.EmergencyAccessGranted"
    reason: str
    expires_at: datetime


class ConsentRecorded(Event):
    """The patient granted, refused or withdrew consent for a scope of care."""

    TOPIC = "carelog.ConsentRecorded"
    consent_id: str
    scope: str
    decision: str
    note: str


class EntryCorrected(Event):
    """An earlier entry was wrong: the corrected fields and why. Nothing is edited."""

    TOPIC = "carelog.EntryCorrected"
    corrected_event_id: str
    fields: dict[str, Any]
    reason: str


class ConditionRecorded(Event):
    """A condition entered the problem list: an ICD-10-CM code, as the clinician
    worded it, with its onset and how certain it is. The safety rules read it."""

    TOPIC = "carelog.ConditionRecorded"
    condition_id: str
    code: str
    display: str
    onset_date: str | None
    verification_status: str


class ConditionResolved(Event):
    """A condition left the problem list (resolved, in remission, entered in error)."""

    TOPIC = "carelog.ConditionResolved"
    condition_id: str
    resolved_date: str
    reason: str


class SexAtBirthRecorded(Event):
    """The patient's sex assigned at birth, which some label rules read."""

    TOPIC = "carelog.SexAtBirthRecorded"
    sex_at_birth: str


class PregnancyStatusRecorded(Event):
    """Pregnant, not pregnant, lactating or postpartum, as of a date."""

    TOPIC = "carelog.PregnancyStatusRecorded"
    status: str
    as_of: str
    expected_delivery_date: str | None


class PharmacogenomicResultRecorded(Event):
    """A pharmacogenomic result as the lab reported it: the gene, the diplotype and/or
    the phenotype as written (either may be None), the lab and the report date.
    CareLog's reading of it (CPIC tables, ``domain/safety/genotypes.py``) is worked
    out when read, never stored."""

    TOPIC = "carelog.PharmacogenomicResultRecorded"
    result_id: str
    gene: str
    diplotype: str | None
    phenotype: str | None
    lab: str
    report_date: str
