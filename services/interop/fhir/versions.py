"""What a receiver needs to import an export safely: versions, identifiers, the view's tag,
and (for the current record) a transaction of conditional updates.

- ``meta.versionId`` counts the events that made or changed the resource (as far as the
  export sees them), ``meta.lastUpdated`` is when the latest of them was recorded: both
  read from the record's own history, so the same state always carries the same version.
- Every resource that can hold an identifier holds one of its own: CareLog's key for the
  resource (``<BASE>/id/resource``, the resource's stable id), beside the domain ids.
- ``meta.tag`` says which view the resource comes from: ``current`` (the record now), or
  ``as-of`` / ``in-effect`` (a past or clinical-time view), with the times in
  ``meta.extension``. A receiver must not let a tagged past view overwrite current data;
  CareLog never makes a transaction of one.
- ``as_transaction`` turns the current view into a ``transaction`` Bundle: each entry a
  conditional ``PUT Type?identifier=system|value`` on the resource's own identifier
  (Provenance, which has no identifier, a plain ``PUT Provenance/<id>``), so posting it
  twice updates rather than duplicates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.errors import InvalidInputError
from services.interop.fhir import vocabulary as v
from services.interop.fhir.references import Entry, instant
from services.interop.fhir.selection import Selection

VIEW = f"{v.BASE}/CodeSystem/export-view"
VIEWS = {
    "current": "Current record",
    "as-of": "As known at a past time (historical view)",
    "in-effect": "As in effect at a time (clinical-time view)",
    "as-of-in-effect": "As known at a past time about a time in effect (historical view)",
}
RESOURCE_KEY = v.id_system("resource")
SINGLE_IDENTIFIER = frozenset({"AdverseEvent", "QuestionnaireResponse"})
"""Types whose ``identifier`` is 0..1 (their domain id is unique already)."""
NO_IDENTIFIER = frozenset({"Provenance", "Bundle"})


def view_code(sel: Selection) -> str:
    if sel.as_of is not None and sel.effective_at is not None:
        return "as-of-in-effect"
    if sel.as_of is not None:
        return "as-of"
    if sel.effective_at is not None:
        return "in-effect"
    return "current"


def view_meta(sel: Selection) -> dict[str, Any]:
    """The tag (and times) every resource of the export carries."""
    code = view_code(sel)
    meta: dict[str, Any] = {"tag": [v.coding(VIEW, code, VIEWS[code])]}
    extensions = []
    if sel.as_of is not None:
        extensions.append({"url": v.EXT_AS_OF, "valueDateTime": instant(sel.as_of)})
    if sel.effective_at is not None:
        extensions.append({"url": v.EXT_EFFECTIVE_AT, "valueDateTime": instant(sel.effective_at)})
    if extensions:
        meta["extension"] = extensions
    return meta


def stamp(sel: Selection, entries: list[Entry], provenance: list[dict[str, Any]]) -> None:
    """Give every resource its version, last update, view tag and own identifier."""
    recorded = {e.event_id: e.timestamp for e in sel.events}
    first: datetime = sel.events[0].timestamp
    shared = view_meta(sel)
    for entry in entries:
        times = [recorded[e] for e in entry.events if e in recorded]
        _meta(entry.resource, len(times) or 1, max(times) if times else first, shared)
        _own_identifier(entry.resource)
    for resource in provenance:
        event_id = resource["extension"][0]["valueString"]
        _meta(resource, 1, recorded.get(event_id, first), shared)


def _meta(resource: dict[str, Any], version: int, last: datetime, shared: dict[str, Any]) -> None:
    meta: dict[str, Any] = {"versionId": str(version), "lastUpdated": instant(last)}
    meta.update(resource.get("meta", {}))
    for key, value in shared.items():
        meta[key] = [dict(item) for item in value]
    resource["meta"] = meta


def _own_identifier(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    if kind in NO_IDENTIFIER or kind in SINGLE_IDENTIFIER:
        return
    own = {"system": RESOURCE_KEY, "value": resource["id"]}
    identifiers = resource.setdefault("identifier", [])
    if own not in identifiers:
        identifiers.append(own)


def conditional_url(resource: dict[str, Any]) -> str:
    """Where a transaction puts the resource: by its own identifier where it has one."""
    kind = resource["resourceType"]
    identifier = resource.get("identifier")
    if kind in SINGLE_IDENTIFIER and isinstance(identifier, dict):
        return f"{kind}?identifier={identifier['system']}|{identifier['value']}"
    if kind in NO_IDENTIFIER:
        return f"{kind}/{resource['id']}"
    return f"{kind}?identifier={RESOURCE_KEY}|{resource['id']}"


def check_transaction(transaction: bool, as_of: Any, effective_at: Any) -> None:
    """Refuse a transaction of a past or clinical-time view (checked before any read is
    recorded, so a refused export is not audited as one made)."""
    if transaction and (as_of is not None or effective_at is not None):
        raise InvalidInputError(
            "A transaction is made of the current record only: an as-of or in-effect view "
            "would overwrite newer data when imported. Drop as_of and effective_at.",
            "type",
        )


def as_transaction(sel: Selection, bundle: dict[str, Any]) -> dict[str, Any]:
    """The current-view collection ``bundle`` as a transaction of conditional PUTs.

    A past or clinical-time view is refused: importing it would overwrite newer data.
    """
    check_transaction(True, sel.as_of, sel.effective_at)
    entries = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        entries.append(
            {
                "fullUrl": entry["fullUrl"],
                "resource": resource,
                "request": {"method": "PUT", "url": conditional_url(resource)},
            }
        )
    return {**bundle, "type": "transaction", "entry": entries}
