"""FHIR R4 export of a patient as of any time, and the patient's right-of-access export."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, jsonify
from marshmallow import INCLUDE, Schema, fields

from services.interop.fhir.bundle import build_bundle
from services.interop.fhir.versions import check_transaction
from services.interop.right_of_access import build_access_export
from web.blueprint import CareLogBlueprint
from web.context import actor, carelog, policy, request_info
from web.schemas.read_queries import PlanQuery, choice

blp = CareLogBlueprint(
    "interop",
    __name__,
    url_prefix="/api/v1/patients",
    description="FHIR R4 exports under both clocks; right of access.",
)


class FhirQuery(PlanQuery):
    type = choice(
        "collection",
        "transaction",
        description="collection (default), or transaction: the current record as conditional "
        "PUTs (Type?identifier=system|value) a FHIR server can import; refused with as_of or "
        "effective_at, which would overwrite newer data",
    )


class BundleOut(Schema):
    """A FHIR R4 Bundle (type collection); see the FHIR specification for its content."""

    class Meta:
        unknown = INCLUDE

    resourceType = fields.String(required=True)
    type = fields.String(required=True)
    entry = fields.List(fields.Dict())


class AccessExportOut(Schema):
    class Meta:
        unknown = INCLUDE

    format = fields.String(required=True)
    patient_id = fields.String(required=True)
    generated_at = fields.String()
    record = fields.Nested(BundleOut, required=True)
    disclosures = fields.List(fields.Dict(), required=True)


def _json(body: dict[str, Any], mimetype: str = "application/json") -> Response:
    response = jsonify(body)
    response.mimetype = mimetype
    return response


@blp.read(
    "/<uuid:pid>/fhir", FhirQuery, BundleOut, 400, 404, 422, content_type="application/fhir+json"
)
def fhir_bundle(args: dict[str, Any], pid: UUID) -> Response:
    """The whole record as FHIR, as known at ``as_of`` and/or in effect at
    ``effective_at``; psychotherapy notes never appear, not even as existence."""
    who = actor()
    check_transaction(args["type"] == "transaction", args.get("as_of"), args.get("effective_at"))
    policy().read_patient(who, str(pid), "fhir", request_info())
    bundle = build_bundle(
        carelog().history,
        str(pid),
        as_of=args.get("as_of"),
        effective_at=args.get("effective_at"),
        include_progress_notes=policy().may_read_progress_notes(who),
        transaction=args["type"] == "transaction",
    )
    return _json(bundle, "application/fhir+json")


@blp.route("/<uuid:pid>/export", methods=["GET"])
@blp.response(200, AccessExportOut)
@blp.errors(404)
def access_export(pid: UUID) -> Response:
    """Right of access (45 CFR 164.524): the designated record set without psychotherapy
    notes, and an accounting of who read or received the record."""
    policy().read_patient(actor(), str(pid), "export", request_info())
    return _json(build_access_export(carelog(), str(pid)))
