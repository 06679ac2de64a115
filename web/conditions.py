"""The problem list and the person: conditions recorded and resolved, sex at birth,
pregnancy and lactation status. Each write re-runs the safety rules against the active
drugs and returns the alerts it raised (bupropion with a seizure disorder just recorded)."""

from __future__ import annotations

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.schemas import person
from web.write_routes import Write, add_writes

blp = add_writes(
    CareLogBlueprint(
        "conditions",
        __name__,
        url_prefix="/api/v1/patients",
        description="The problem list (ICD-10-CM), sex at birth and pregnancy status.",
    ),
    Write(
        c.RecordCondition,
        "/conditions",
        person.ConditionIn,
        "condition",
        "Put a condition on the problem list; returns condition_id and any alerts.",
    ),
    Write(
        c.ResolveCondition,
        "/conditions/<string:condition_id>/resolution",
        person.ConditionResolutionIn,
        "condition_resolution",
        "Take a condition off the problem list (psychiatrist or therapist), with a reason.",
    ),
    Write(
        c.RecordSexAtBirth,
        "/sex-at-birth",
        person.SexAtBirthIn,
        "sex_at_birth",
        "Record the patient's sex at birth.",
    ),
    Write(
        c.RecordPregnancyStatus,
        "/pregnancy-status",
        person.PregnancyStatusIn,
        "pregnancy_status",
        "Record pregnancy or lactation status as of a date.",
    ),
)
