"""The problem list and the person: conditions recorded and resolved, sex at birth,
pregnancy and lactation status. Each write re-runs the safety rules against the active
drugs and returns the alerts it raised (bupropion with a seizure disorder just recorded)."""

from __future__ import annotations

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.schemas import person
from web.write_routes import add_write, command

P = "/<uuid:pid>"

blp = CareLogBlueprint(
    "conditions",
    __name__,
    url_prefix="/api/v1/patients",
    description="The problem list (ICD-10-CM), sex at birth and pregnancy status.",
)
add_write(
    blp,
    f"{P}/conditions",
    person.ConditionIn,
    endpoint="record_condition",
    what="condition",
    handler=command(c.RecordCondition),
    summary="Put a condition on the problem list; returns condition_id and any alerts.",
)
add_write(
    blp,
    f"{P}/conditions/<string:condition_id>/resolution",
    person.ConditionResolutionIn,
    endpoint="resolve_condition",
    what="condition_resolution",
    handler=command(c.ResolveCondition),
    summary="Take a condition off the problem list (psychiatrist or therapist), with a reason.",
)
add_write(
    blp,
    f"{P}/sex-at-birth",
    person.SexAtBirthIn,
    endpoint="record_sex_at_birth",
    what="sex_at_birth",
    handler=command(c.RecordSexAtBirth),
    summary="Record the patient's sex at birth.",
)
add_write(
    blp,
    f"{P}/pregnancy-status",
    person.PregnancyStatusIn,
    endpoint="record_pregnancy_status",
    what="pregnancy_status",
    handler=command(c.RecordPregnancyStatus),
    summary="Record pregnancy or lactation status as of a date.",
)
