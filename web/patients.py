"""Patients: registration, the list a caller may see, and emergency access."""

from __future__ import annotations

from typing import Any

from flask import Response

from domain import commands as c
from web.blueprint import CareLogBlueprint
from web.context import carelog, log_read, reader_of
from web.schemas.dashboard_out import PatientsOut
from web.schemas.patient_in import PatientIn, ReasonIn
from web.schemas.read_queries import ReadQuery
from web.write_routes import Write, add_writes
from web.writes import write

blp = CareLogBlueprint(
    "patients",
    __name__,
    url_prefix="/api/v1/patients",
    description="Patient registration and the patients a caller may see.",
)


@blp.write("", PatientIn, 400, 409, 422, versioned=False)
def register(data: dict[str, Any]) -> Response:
    """Register a patient; the caller joins the care team."""
    return write(
        "register_patient",
        None,
        lambda ctx, _v: carelog().commands.register_patient(ctx, c.RegisterPatient(**data)),
    )


@blp.read("", ReadQuery, PatientsOut, 400, 503)
def list_patients(args: dict[str, Any]) -> dict[str, Any]:
    """Patients on the caller's care teams (auditors: every patient)."""
    who, info = reader_of("patients", args)
    view = carelog().views.current_plan
    patients = view.all_patients() if str(who.role) == "auditor" else view.patients_for(who.id)
    for patient in patients:
        log_read(who, info, patient["patient_id"], "patients")
    return {"patients": patients}


add_writes(
    blp,
    Write(
        c.GrantEmergencyAccess,
        "/emergency-access",
        ReasonIn,
        "emergency_access",
        "Break the glass: four hours' access with a stated reason, flagged for review.",
        codes=(400, 404, 422),
        endpoint="emergency_access",
    ),
)
