"""Patients: registration, the list a caller may see, and emergency access."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.context import actor, carelog, policy, request_info, wait_for_views
from web.schemas.reads import PatientsOut, ReadQuery
from web.schemas.requests import PatientIn, ReasonIn
from web.writes import write

blp = CareLogBlueprint(
    "patients",
    __name__,
    url_prefix="/api/v1/patients",
    description="Patient registration and the patients a caller may see.",
)


@blp.route("", methods=["POST"])
@blp.arguments(PatientIn)
@blp.write_response(versioned=False)
@blp.errors(400, 409, 422)
def register(data: dict[str, Any]) -> Response:
    """Register a patient; the caller joins the care team."""
    return write(
        "register_patient",
        None,
        lambda ctx, _v: carelog().commands.register_patient(ctx, c.RegisterPatient(**data)),
    )


@blp.route("", methods=["GET"])
@blp.arguments(ReadQuery, location="query")
@blp.response(200, PatientsOut)
@blp.errors(400, 503)
def list_patients(args: dict[str, Any]) -> dict[str, Any]:
    """Patients on the caller's care teams (auditors: every patient)."""
    who, info = actor(), request_info()
    policy().require_read_kind(who, "patients", info)
    wait_for_views(args)
    view = carelog().views.current_plan
    patients = view.all_patients() if str(who.role) == "auditor" else view.patients_for(who.id)
    for patient in patients:
        carelog().access_log.record(
            actor_id=who.id,
            actor_role=str(who.role),
            patient_id=patient["patient_id"],
            what="patients",
            request_id=info.request_id,
            source=info.source,
        )
    return {"patients": patients}


@blp.route("/<uuid:pid>/emergency-access", methods=["POST"])
@blp.arguments(ReasonIn)
@blp.write_response()
@blp.errors(400, 404, 422)
def emergency_access(data: dict[str, Any], pid: UUID) -> Response:
    """Break the glass: four hours' access with a stated reason, flagged for review."""
    return write(
        "emergency_access",
        str(pid),
        lambda ctx, v: carelog().commands.execute(
            ctx, str(pid), c.GrantEmergencyAccess(**data), expected_version=v
        ),
    )
