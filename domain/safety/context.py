"""What the safety rules read (the patient's plan after a change) and what they report.

The rules never see events or storage: the caller folds the log into a ``PatientContext``
and describes the write being checked as a ``Change``. Everything is an immutable value,
so that evaluating the same plan twice gives the same findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class DoseStep:
    """One dose of an order, in effect from ``effective_at`` until the next step."""

    effective_at: datetime
    amount: float
    unit: str  # mg, mcg, g, mL or units
    frequency: str  # free text as prescribed: "twice daily", "every 8 hours", "at night" ...


@dataclass(frozen=True)
class MedicationCourse:
    """One medication order from its start to its discontinuation, dose by dose."""

    order_id: str
    drug: str  # as typed: generic, brand ("Zoloft") or with its salt, any case
    route: str
    steps: tuple[DoseStep, ...]  # in effective order: steps[0] the start, steps[-1] the current
    stopped_at: datetime | None = None  # discontinuation effective time (None: still active)
    taper: str | None = None  # the taper schedule given with the discontinuation
    formulation: str | None = None  # "XR", "SR" ... as the order states it; None: not given
    # The true start of a course that continues established therapy (a transfer in): the
    # start-dose and titration rules do not fire, monitoring runs from this date; None: the
    # first step is the start.
    continuing_since: datetime | None = None
    indication: str | None = None  # as prescribed ("panic disorder", "F41.0"); None: not given
    stop_reason: str | None = None  # the discontinuation's reason, as written
    mg_per_ml: float | None = None  # a liquid's concentration, as its name states it


@dataclass(frozen=True)
class AssessmentPoint:
    """One scored questionnaire (PHQ-9, GAD-7) or clinical assessment."""

    instrument: str  # "PHQ-9" | "GAD-7" | "clinical"
    total: int | None
    item_scores: tuple[int, ...]
    effective_at: datetime


@dataclass(frozen=True)
class LabResult:
    """A lab value or a measurement: monitoring rules need that it was done, range rules
    (a lithium level above the target range) its value."""

    test: str  # a test of the pack's vocabulary ("lithium_level", "anc", "weight" ...)
    effective_at: datetime
    value: float | None = None
    unit: str | None = None  # as recorded ("mmol/L"); the range rules compare like units only


@dataclass(frozen=True)
class SideEffect:
    """A side effect seen or reported, as written, with the order it was tied to (if any)."""

    report_id: str
    effect: str  # free text: "severe rash with fever", "constipated for 4 days"
    severity: str  # mild | moderate | severe
    effective_at: datetime
    order_id: str | None = None


@dataclass(frozen=True)
class Condition:
    """A condition on the problem list (recorded, or diagnosed in an assessment)."""

    condition_id: str
    code: str  # ICD-10-CM, upper case ("G40.909")
    display: str
    since: datetime  # effective time of the entry (or of the assessment)
    onset: date | None = None
    verification_status: str = "confirmed"


@dataclass(frozen=True)
class PregnancyStatus:
    """The latest pregnancy status on record."""

    status: str  # pregnant | not_pregnant | lactating | postpartum
    as_of: date
    expected_delivery: date | None = None
    event_id: str = ""  # the entry that began this status (keys its findings)


@dataclass(frozen=True)
class PharmacogenomicResult:
    """A pharmacogenomic result as the lab reported it (``domain/safety/genotypes.py``
    reads it: a phenotype, or not interpretable)."""

    result_id: str
    gene: str  # canonical where CareLog knows the gene ("CYP2D6", "HLA-B"), else as typed
    diplotype: str | None
    phenotype: str | None
    lab: str
    report_date: date
    effective_at: datetime


@dataclass(frozen=True)
class PatientContext:
    """The patient's plan after the change being checked."""

    now: datetime
    birth_date: date | None
    facts: Mapping[str, str]  # "smoking", "hepatic_impairment", "cyp2c19_metaboliser" ...
    medications: tuple[MedicationCourse, ...]  # active and discontinued courses
    # In effective order. Any sequence: a long record's is read lazily, since only the
    # points around the change are looked at (see ``assessments.check_assessments``).
    assessments: Sequence[AssessmentPoint]
    labs: tuple[LabResult, ...]
    side_effects: tuple[SideEffect, ...] = ()  # in effective order
    conditions: tuple[Condition, ...] = ()  # the open problem list
    sex_at_birth: str | None = None  # female | male | intersex | unknown
    pregnancy: PregnancyStatus | None = None
    pharmacogenomics: tuple[PharmacogenomicResult, ...] = ()  # in report order


@dataclass(frozen=True)
class Change:
    """What the write being checked does: rules about a change fire only for their kind.

    A correction of an earlier entry is described as a change of that entry's kind, at the
    corrected entry's effective time, so that the rules it ran then run again on the
    corrected plan (``correction`` set).
    """

    kind: str  # prescribed | dose_changed | discontinued | assessment | side_effect | lab | fact
    # | condition (a condition, sex at birth or pregnancy status recorded or resolved)
    # | pharmacogenomic (a pharmacogenomic result recorded)
    effective_at: datetime
    order_id: str | None = None
    fact: str | None = None  # kind "fact": which fact changed
    previous_value: str | None = None  # kind "fact": its value before the change
    correction: bool = False  # a correction of an earlier entry of this kind (re-checked)


@dataclass(frozen=True)
class Finding:
    """One rule that applies to the plan, worded for the clinician who must act on it.

    ``key`` identifies the finding across evaluations (same rule, same orders, same test),
    so that the caller raises an alert once and closes it when the finding goes away.
    """

    key: str
    rule_id: str
    kind: str
    severity: str
    message: str
    action: str
    source: str
    evidence: str  # "V": checked against the cited text; "K": as commonly known
    order_ids: tuple[str, ...]  # sorted
    due_at: datetime | None = None  # monitoring_due: when the check is due
    test: str | None = None  # monitoring_due: which lab or measure
    blocking: bool = False  # contraindicated: refused unless a prescriber overrides
    fact: str | None = None  # a fact-state interaction: the fact it holds on (normalised)
