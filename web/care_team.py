"""The care team: assigning and removing clinicians."""

from __future__ import annotations

from typing import Any

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.schemas.patient_in import CareTeamMemberIn, ReasonIn
from web.write_routes import Write, add_writes


def _removal(data: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return {"clinician_id": path["cid"], **data}


blp = add_writes(
    CareLogBlueprint(
        "care_team",
        __name__,
        url_prefix="/api/v1/patients",
        description="Who is on a patient's care team.",
    ),
    Write(
        c.AssignCareTeamMember,
        "/care-team",
        CareTeamMemberIn,
        "care_team",
        "Add a clinician to the care team.",
        endpoint="assign",
    ),
    Write(
        c.RemoveCareTeamMember,
        "/care-team/<string:cid>/removal",
        ReasonIn,
        "care_team",
        "Remove a clinician from the care team, with the reason.",
        prepare=_removal,
        endpoint="remove",
    ),
)
