"""The care team: assigning and removing clinicians."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.context import carelog
from web.schemas.patient_in import CareTeamMemberIn, ReasonIn
from web.writes import write

blp = CareLogBlueprint(
    "care_team",
    __name__,
    url_prefix="/api/v1/patients",
    description="Who is on a patient's care team.",
)


@blp.write("/<uuid:pid>/care-team", CareTeamMemberIn, 400, 404, 412, 422)
def assign(data: dict[str, Any], pid: UUID) -> Response:
    """Add a clinician to the care team."""
    return write(
        "care_team",
        str(pid),
        lambda ctx, v: carelog().commands.execute(
            ctx, str(pid), c.AssignCareTeamMember(**data), expected_version=v
        ),
    )


@blp.write("/<uuid:pid>/care-team/<string:cid>/removal", ReasonIn, 400, 404, 412, 422)
def remove(data: dict[str, Any], pid: UUID, cid: str) -> Response:
    """Remove a clinician from the care team, with the reason."""
    return write(
        "care_team",
        str(pid),
        lambda ctx, v: carelog().commands.execute(
            ctx, str(pid), c.RemoveCareTeamMember(clinician_id=cid, **data), expected_version=v
        ),
    )
