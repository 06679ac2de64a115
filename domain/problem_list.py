"""The patient's problem list, sex at birth and pregnancy status, as the plan folds them.

Conditions come from two places: ``ConditionRecorded`` entries, and the ICD-10 diagnoses
of assessments. A diagnosis made in an assessment is on the problem list without a
separate entry (one item per code, id ``dx:<code>``), so that a clinician who diagnosed
bulimia in an assessment need not record it twice for the rules to see it; resolving
``dx:<code>`` takes it off until a later assessment diagnoses it again. A code also
recorded as a condition is listed once, as the recorded condition.

Both plan documents and the safety rules' context read the list from here, so the three
can never disagree about what is on it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, cast

from domain.json_value import JsonObject, JsonValue
from domain.plan_vocabulary import ConditionStatus

if TYPE_CHECKING:
    from domain.plan import PlanState
    from domain.plan_records import Pregnancy

ICD10_CM = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
"""An ICD-10-CM code as written: a letter, two characters, then up to four after a dot
("F32.1", "G40.909", "I45.81")."""
VERIFICATION_STATUSES = ("confirmed", "provisional", "differential")
"""As FHIR's Condition.verificationStatus (refuted / entered in error: resolve it)."""
SEXES_AT_BIRTH = ("female", "male", "intersex", "unknown")
PREGNANCY_STATUSES = ("pregnant", "not_pregnant", "lactating", "postpartum")
DIAGNOSIS_PREFIX = "dx:"


def normalise_code(code: str) -> str:
    """ "f32.1 " -> "F32.1": codes are compared upper-case, without spaces."""
    return "".join(code.split()).upper()


def diagnosis_id(code: str) -> str:
    """The problem-list id of a code diagnosed in assessments."""
    return DIAGNOSIS_PREFIX + normalise_code(code)


class ProblemListItem(TypedDict):
    """One item of the problem list, a recorded condition or a diagnosis of assessments."""

    condition_id: str
    code: str
    display: str
    onset_date: str | None
    verification_status: str
    source: str  # "recorded" | "assessment"
    since: datetime
    recorded_by: JsonObject


def _iso(value: object) -> JsonValue:
    return value.isoformat() if isinstance(value, datetime) else cast(JsonValue, value)


def active_conditions(state: PlanState) -> list[ProblemListItem]:
    """The open problem list, oldest first: recorded conditions not resolved, then each
    code diagnosed in an assessment since its last resolution (unless recorded too)."""
    resolved_dx = state.resolved_diagnoses
    recorded = [c for c in state.conditions.values() if c.status is ConditionStatus.ACTIVE]
    listed = {normalise_code(c.code) for c in recorded}
    out: list[ProblemListItem] = [
        {
            "condition_id": c.condition_id,
            "code": c.code,
            "display": c.display,
            "onset_date": c.onset_date,
            "verification_status": c.verification_status,
            "source": "recorded",
            "since": c.effective_at,
            "recorded_by": c.actor.as_dict(),
        }
        for c in recorded
    ]
    diagnosed: dict[str, ProblemListItem] = {}
    for assessment in state.assessments:  # in effective order
        for raw in assessment.diagnoses:
            code = normalise_code(raw)
            cleared = resolved_dx.get(code)
            if code in listed or (cleared is not None and assessment.effective_at <= cleared):
                continue
            diagnosed.setdefault(
                code,
                {
                    "condition_id": diagnosis_id(code),
                    "code": code,
                    "display": f"{code} (diagnosed in assessment)",
                    "onset_date": None,
                    "verification_status": "confirmed",
                    "source": "assessment",
                    "since": assessment.effective_at,
                    "recorded_by": assessment.actor.as_dict(),
                },
            )
    out.extend(diagnosed.values())
    return sorted(out, key=lambda c: (c["since"], c["condition_id"]))


def problem_list(state: PlanState) -> list[ProblemListItem]:
    """The open problem list as the plan documents show it (times as given)."""
    return active_conditions(state)


def pregnancy(state: PlanState) -> Pregnancy | None:
    """The latest pregnancy status recorded (by effective time), or None."""
    return state.pregnancy


def sex_at_birth(state: PlanState) -> str | None:
    return state.patient.sex_at_birth or None


def plain(document: ProblemListItem) -> JsonObject:
    """A problem-list item with its times as ISO text (the stored view's form)."""
    return {k: _iso(v) for k, v in document.items()}
