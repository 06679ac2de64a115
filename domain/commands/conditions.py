"""Commands on the problem list and the person, pharmacogenomic results, and the
correction of an earlier entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.commands.late_entry import LateEntry


@dataclass(frozen=True)
class RecordCondition(LateEntry):
    """Put a condition on the problem list, ICD-10-CM coded."""

    code: str
    display: str | None = None
    onset_date: str | None = None  # ISO text: the schema leaves dates to the record
    verification_status: str = "confirmed"


@dataclass(frozen=True)
class ResolveCondition(LateEntry):
    """Take a condition off the problem list, with the reason."""

    condition_id: str
    reason: str
    resolved_date: str | None = None


@dataclass(frozen=True)
class RecordSexAtBirth(LateEntry):
    """The sex assigned at birth, which label rules read."""

    sex_at_birth: str


@dataclass(frozen=True)
class RecordPregnancyStatus(LateEntry):
    """Pregnant, not pregnant, lactating or postpartum, as of a date."""

    status: str
    as_of: str | None = None
    expected_delivery_date: str | None = None


@dataclass(frozen=True)
class RecordPharmacogenomicResult(LateEntry):
    """A pharmacogenomic result as the lab reported it."""

    gene: str
    lab: str
    report_date: str
    diplotype: str | None = None
    phenotype: str | None = None


@dataclass(frozen=True)
class CorrectEntry:
    """Correct fields of an earlier entry. The corrected values are as the writer gave
    them (text, number, list, dose): which fields an entry has depends on the entry, so
    the record checks each one against the checks its original passed."""

    event_id: str
    fields: Mapping[str, object]
    reason: str
